/**
 * Token checks for /api, the pages and /metrics. A request is let in with
 * `Authorization: Bearer <token>`, with a session cookie, or with `?token=` itself (the page then
 * starts a session and redirects to the same URL without the token, so it does not stay in the
 * address bar or the history). A session id is 32 random bytes known only to the browser; the
 * database keeps its hash (bound to the token in force: a new token ends every session) and its
 * expiry (`http.sessionTtl`). The cookie is `Secure` when the request came over https through a
 * trusted proxy (`http.trustProxy`).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Name of the session cookie. */
export const COOKIE_NAME = "warden_session";

/** What a request presented. */
export type AuthVerdict =
  /** A valid bearer header or session cookie. */
  | "ok"
  /** A valid `?token=`: start a session, then redirect without it. */
  | "query"
  /** Nothing, or something wrong. */
  | "denied"
  /** WARDEN_HTTP_TOKEN is not set: nothing that needs a token can be served. */
  | "no-token";

/** Where sessions are kept (the store's http_sessions). */
export interface SessionStore {
  add(hash: string, now: number, expiresAt: number): void;
  valid(hash: string, now: number): boolean;
}

/** The token checker of one server. */
export interface Auth {
  check(request: { headers: Record<string, string | string[] | undefined>; query: unknown }): AuthVerdict;
  /** Starts a session after a valid `?token=`; returns the Set-Cookie value. */
  startSession(secure: boolean): string;
}

/** What the checker is built from. */
export interface AuthOptions {
  token: string | undefined;
  sessions: SessionStore;
  /** `http.sessionTtl` in ms. */
  sessionTtl(): number;
  now(): number;
}

const digest = (text: string) => createHash("sha256").update(`wa-warden http token\0${text}`).digest();

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

/** Builds the checker (no token: every check answers "no-token"). */
export function createAuth(options: AuthOptions): Auth {
  const expected = options.token === undefined ? undefined : digest(options.token);
  // The session hash covers the token: sessions end when the token changes.
  const sessionHash = (id: string) =>
    createHash("sha256")
      .update(`${expected?.toString("hex")}\0${id}`)
      .digest("hex");
  return {
    check(request) {
      if (expected === undefined) return "no-token";
      const header = request.headers.authorization;
      if (typeof header === "string" && header.startsWith("Bearer ")) {
        if (same(digest(header.slice("Bearer ".length).trim()), expected)) return "ok";
        return "denied";
      }
      const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
      if (cookie !== undefined && /^[A-Za-z0-9_-]{43}$/.test(cookie))
        if (options.sessions.valid(sessionHash(cookie), options.now())) return "ok";
      const query = (request.query ?? {}) as Record<string, unknown>;
      if (typeof query.token === "string" && same(digest(query.token), expected)) return "query";
      return "denied";
    },
    startSession(secure) {
      const id = randomBytes(32).toString("base64url");
      const now = options.now();
      const ttl = options.sessionTtl();
      options.sessions.add(sessionHash(id), now, now + ttl);
      return `${COOKIE_NAME}=${id}; Path=/; Max-Age=${Math.floor(ttl / 1000)}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
    },
  };
}
