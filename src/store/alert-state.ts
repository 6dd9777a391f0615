/** Queries on alert_state: the level each company's alerts are at. */
import type { Db } from "./db.js";

/** Alert levels, lowest first. */
export const LEVELS = ["ok", "monitor", "warning", "critical", "fatal"] as const;

/** An alert level. */
export type Level = (typeof LEVELS)[number];

/** Per-company alert memory. */
export interface AlertState {
  level: Level;
  levelSince: number;
  /** When the last message for this company was queued (null: never). */
  lastAlertAt: number | null;
}

/** Typed alert-state queries. */
export function createAlertStateQueries(db: Db) {
  const get = db.prepare<[string], { level: Level; level_since: number; last_alert_at: number | null }>(
    "SELECT level, level_since, last_alert_at FROM alert_state WHERE company = ?",
  );
  const put = db.prepare(`
    INSERT INTO alert_state (company, level, level_since, last_alert_at, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET level = excluded.level, level_since = excluded.level_since,
      last_alert_at = excluded.last_alert_at, updated_at = excluded.updated_at
    -- An unchanged state is not rewritten at every scan; updated_at at most every 10 minutes.
    WHERE alert_state.level IS NOT excluded.level OR alert_state.level_since IS NOT excluded.level_since
      OR alert_state.last_alert_at IS NOT excluded.last_alert_at
      OR alert_state.updated_at < excluded.updated_at - 600000`);
  return {
    /** The stored state, or undefined for a company never evaluated. */
    get(company: string): AlertState | undefined {
      const row = get.get(company);
      return row
        ? { level: row.level, levelSince: row.level_since, lastAlertAt: row.last_alert_at }
        : undefined;
    },
    /** Stores a company's state. */
    put(company: string, state: AlertState, now: number): void {
      put.run(company, state.level, state.levelSince, state.lastAlertAt, now);
    },
  };
}

/** The alert-state query set. */
export type AlertStateQueries = ReturnType<typeof createAlertStateQueries>;
