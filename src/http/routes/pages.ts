/** The server-rendered pages (`/`, `/companies/:id`, `/companies/:id/qr`), all behind the token. */
import type { FastifyInstance, FastifyReply } from "fastify";
import { isCompanyId } from "../../config/company-id.js";
import { companySettings } from "../../config/load.js";
import { signalStatus } from "../../signals/signal-status.js";
import type { Auth } from "../auth.js";
import {
  type CompanyView,
  companyView,
  companyViews,
  currentStepResult,
  type FleetSource,
  worstFirst,
} from "../fleet-view.js";
import { healthReport } from "../health-report.js";
import { countBreaks, projectNextLevel } from "../trend.js";
import { renderCompanyPage } from "../views/company-page.js";
import { renderFleetPage } from "../views/fleet-page.js";
import { escapeHtml, page } from "../views/html.js";
import { renderQrFragment, renderQrPage } from "../views/qr-page.js";
import { tokenGuard } from "./guard.js";

const html = (reply: FastifyReply, body: string) =>
  reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(body);

/** Registers the pages. */
export function registerPageRoutes(
  app: FastifyInstance,
  source: FleetSource,
  auth: Auth,
  backupsRoot?: string,
): void {
  const preHandler = tokenGuard(auth, { pages: true });
  const find = (id: string): CompanyView | undefined =>
    isCompanyId(id) ? companyView(source, id) : undefined;
  const notFound = (reply: FastifyReply, id: string) =>
    html(
      reply.code(404),
      page("Not found", `<p>Unknown company ${escapeHtml(JSON.stringify(id))}. <a href="/">Fleet</a></p>`),
    );

  app.get("/", { preHandler }, async (_request, reply) =>
    html(
      reply,
      renderFleetPage(
        companyViews(source).sort(worstFirst),
        source.now(),
        (await healthReport(source, backupsRoot)).recommendations,
      ),
    ),
  );

  app.get<{ Params: { id: string } }>("/companies/:id", { preHandler }, async (request, reply) => {
    const company = find(request.params.id);
    if (!company) return notFound(reply, request.params.id);
    const { store } = source;
    const config = source.config();
    const now = source.now();
    const from = now - config.history.keep;
    const points = store.companies.history(company.id, from);
    const thresholds = companySettings(config, company.id).thresholds;
    const audit = store.audit.list(company.id);
    return html(
      reply,
      renderCompanyPage({
        company,
        history: [
          { name: "total", color: "#888", points: points.map((p) => ({ at: p.at, value: p.total })) },
          {
            name: "live",
            color: "#2e8b57",
            points: points.map((p) => ({ at: p.at, value: p.total - p.stale })),
          },
          { name: "stale", color: "#c0392b", points: points.map((p) => ({ at: p.at, value: p.stale })) },
          { name: "counted", color: "#1f6fb4", points: points.map((p) => ({ at: p.at, value: p.counted })) },
        ],
        // The chart starts just before the oldest point: a young company fills the width too.
        historyFrom: points[0]
          ? Math.max(from, points[0].at - Math.max(1_000, (now - points[0].at) / 20))
          : from,
        thresholds,
        projection: projectNextLevel({
          points: points.map((p) => ({ at: p.at, value: p.counted })),
          current: company.files.counted ?? 0,
          level: company.level,
          thresholds,
          now,
          breaks: countBreaks(audit),
        }),
        signals: signalStatus(store.signals, company.id, now),
        transitions: store.connections.transitionsOf(company.id),
        steps: store.ladder
          .steps(company.id)
          .map((s) => ({ ...s, result: currentStepResult(store, company.id, s) })),
        audit: audit.slice(-50),
        now,
      }),
    );
  });

  const qrFragment = (id: string) =>
    renderQrFragment(
      id,
      source.store.connections.get(id)?.state ?? "unknown",
      source.store.connections.pairing(id),
    );
  app.get<{ Params: { id: string } }>("/companies/:id/qr", { preHandler }, async (request, reply) => {
    const { id } = request.params;
    if (!find(id)) return notFound(reply, id);
    return html(reply, renderQrPage(id, await qrFragment(id)));
  });
  app.get<{ Params: { id: string } }>(
    "/companies/:id/qr/fragment",
    { preHandler },
    async (request, reply) => {
      const { id } = request.params;
      if (!find(id)) return notFound(reply, id);
      return html(reply, await qrFragment(id));
    },
  );
}
