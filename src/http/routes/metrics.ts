/** `/metrics`: Prometheus text, open on loopback, behind the token on any other address. */
import type { FastifyInstance } from "fastify";
import type { Auth } from "../auth.js";
import type { FleetMetrics } from "../metrics.js";
import { tokenGuard } from "./guard.js";

/** Registers /metrics. */
export function registerMetricsRoutes(
  app: FastifyInstance,
  metrics: FleetMetrics,
  auth: Auth,
  loopback: boolean,
): void {
  app.get(
    "/metrics",
    loopback ? {} : { preHandler: tokenGuard(auth, { pages: false }) },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
