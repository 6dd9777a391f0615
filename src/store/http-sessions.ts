/**
 * Dashboard logins: a random session id lives only in the browser's cookie; this table keeps its
 * hash and expiry, so a copy of the database lets nobody in and an expired cookie is refused.
 */
import type { Db } from "./db.js";

/** Typed HTTP session queries. */
export function createHttpSessionQueries(db: Db) {
  const insert = db.prepare("INSERT INTO http_sessions (hash, created_at, expires_at) VALUES (?, ?, ?)");
  const valid = db.prepare<[string, number], { hash: string }>(
    "SELECT hash FROM http_sessions WHERE hash = ? AND expires_at > ?",
  );
  const prune = db.prepare("DELETE FROM http_sessions WHERE expires_at <= ?");
  return {
    /** Records a new session by the hash of its id; forgets the expired ones. */
    add(hash: string, now: number, expiresAt: number): void {
      db.transaction(() => {
        prune.run(now);
        insert.run(hash, now, expiresAt);
      })();
    },
    /** True when a session with this hash exists and has not expired. */
    valid(hash: string, now: number): boolean {
      return valid.get(hash, now) !== undefined;
    },
  };
}
