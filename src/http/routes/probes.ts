/** `/healthz` (the process answers) and `/readyz` (ready to be relied on), open as probes expect. */
import type { FastifyInstance } from "fastify";

/** Readiness: ok, or the first reason it is not. */
export type Readiness = { ok: true } | { ok: false; reason: string };

/** Registers the probes. */
export function registerProbeRoutes(app: FastifyInstance, ready: () => Readiness): void {
  app.get("/healthz", async (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.get("/readyz", async (_request, reply) => {
    const verdict = ready();
    if (verdict.ok) return reply.type("text/plain").send("ready\n");
    return reply.code(503).type("text/plain").send(`not ready: ${verdict.reason}\n`);
  });
}
