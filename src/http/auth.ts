/**
 * Token checks for /api, the pages and (off loopback) /metrics. A request is let in with
 * `Authorization: Bearer <token>`, with the cookie set by a `?token=` visit, or with `?token=`
 * itself (the page then sets the cookie and redirects to the same URL without the token, so it
 * does not stay in the browser history). The cookie holds a hash of the token, never the token.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Name of the session cookie. */
export const COOKIE_NAME = "warden_token";

/** What a request presented. */
export type AuthVerdict =
  /** A valid bearer header or cookie. */
  | "ok"
  /** A valid `?token=`: set the cookie, then redirect without it. */
  | "query"
  /** Nothing, or something wrong. */
  | "denied"
  /** WARDEN_HTTP_TOKEN is not set: nothing that needs a token can be served. */
  | "no-token";

/** The token checker of one server. */
export interface Auth {
  check(request: { headers: Record<string, string | string[] | undefined>; query: unknown }): AuthVerdict;
  /** The Set-Cookie value after a valid `?token=`. */
  cookie(secure: boolean): string;
}

const digest = (text: string) => createHash("sha256").update(`wa-warden http cookie\0${text}`).digest();

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join("; ") : header;
  if (!text) return undefined;
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Builds the checker for `token` (undefined: every check answers "no-token"). */
export function createAuth(token: string | undefined): Auth {
  const expected = token === undefined ? undefined : digest(token);
  const cookieValue = expected?.toString("base64url");
  return {
    check(request) {
      if (expected === undefined) return "no-token";
      const header = request.headers.authorization;
      if (typeof header === "string" && header.startsWith("Bearer ")) {
        if (same(digest(header.slice("Bearer ".length).trim()), expected)) return "ok";
        return "denied";
      }
      const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
      if (
        cookie !== undefined &&
        cookieValue !== undefined &&
        same(Buffer.from(cookie), Buffer.from(cookieValue))
      )
        return "ok";
      const query = (request.query ?? {}) as Record<string, unknown>;
      if (typeof query.token === "string" && same(digest(query.token), expected)) return "query";
      return "denied";
    },
    cookie(secure) {
      return `${COOKIE_NAME}=${cookieValue}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
    },
  };
}
