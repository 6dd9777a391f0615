/** `/api/companies` (the fleet as JSON) and `/api/companies/:id`, behind the token. */
import type { FastifyInstance } from "fastify";
import { isCompanyId } from "../../config/company-id.js";
import type { Auth } from "../auth.js";
import { companyView, companyViews, type FleetSource } from "../fleet-view.js";
import { tokenGuard } from "./guard.js";

/** Registers the API routes. */
export function registerApiRoutes(app: FastifyInstance, source: FleetSource, auth: Auth): void {
  const preHandler = tokenGuard(auth, { pages: false });
  app.get("/api/companies", { preHandler }, async () => ({ companies: companyViews(source) }));
  app.get<{ Params: { id: string } }>("/api/companies/:id", { preHandler }, async (request, reply) => {
    const { id } = request.params;
    const company = isCompanyId(id) ? companyView(source, id) : undefined;
    if (!company) return reply.code(404).send({ error: `Unknown company ${JSON.stringify(id)}` });
    return company;
  });
}
