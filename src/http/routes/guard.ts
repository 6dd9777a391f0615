/**
 * The token guard of /api and the pages (and of /metrics off loopback), as a fastify preHandler.
 * A page visited with a valid `?token=` gets the cookie and a redirect to the same URL without
 * the token, so the token does not stay in the address bar or the history.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Auth } from "../auth.js";

/** Builds the preHandler; `pages` decides whether a `?token=` visit is redirected. */
export function tokenGuard(auth: Auth, options: { pages: boolean }) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const verdict = auth.check(request);
    if (verdict === "ok") return;
    if (verdict === "query") {
      reply.header("set-cookie", auth.startSession(request.protocol === "https"));
      if (options.pages && request.method === "GET") {
        const url = new URL(request.url, "http://x");
        url.searchParams.delete("token");
        return reply.redirect(`${url.pathname}${url.search}`, 303);
      }
      return;
    }
    if (verdict === "no-token")
      return reply
        .code(403)
        .type("text/plain; charset=utf-8")
        .send(
          "WARDEN_HTTP_TOKEN is not set for the supervisor: /api and the pages are off. Set it in the pm2 environment and restart.\n",
        );
    return reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="wa-warden"')
      .type("text/plain; charset=utf-8")
      .send(
        "Token required: Authorization: Bearer <WARDEN_HTTP_TOKEN>, or open the page once with ?token=...\n",
      );
  };
}
