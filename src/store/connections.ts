/** Queries on connection_state (written by the workers, read by status). */
import type { Db } from "./db.js";

/** A company's connection as the workers last reported it. */
export interface ConnectionRow {
  state: string;
  since: number;
  reason: string | null;
  code: number | null;
}

/** Typed connection-state queries. */
export function createConnectionQueries(db: Db) {
  const get = db.prepare<[string], ConnectionRow>(
    "SELECT state, since, reason, code FROM connection_state WHERE company = ?",
  );
  return {
    /** The last reported connection state, or undefined when no worker has reported yet. */
    get(company: string): ConnectionRow | undefined {
      return get.get(company);
    },
  };
}
