/**
 * `/metrics`: Prometheus text. Every company id and state is in it, so when WARDEN_HTTP_TOKEN is
 * set it needs the token (Prometheus: `authorization: { credentials: <token> }`, a bearer); open
 * only on a loopback address without a token (listen-address.ts refuses any other without one).
 */
import type { FastifyInstance } from "fastify";
import type { Auth } from "../auth.js";
import type { FleetMetrics } from "../metrics.js";
import { tokenGuard } from "./guard.js";

/** Registers /metrics. */
export function registerMetricsRoutes(
  app: FastifyInstance,
  metrics: FleetMetrics,
  auth: Auth,
  tokenSet: boolean,
): void {
  app.get(
    "/metrics",
    tokenSet ? { preHandler: tokenGuard(auth, { pages: false }) } : {},
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
