/**
 * Whole-fleet reads for the HTTP side (/metrics, /api, the dashboard): one statement per table
 * instead of one per company, so a scrape of 1,000 companies stays a handful of queries.
 */
import type { Level } from "./alert-state.js";
import type { ConnectionRow, PairingRow } from "./connections.js";
import type { Db } from "./db.js";
import type { LadderStepRow } from "./ladder.js";

/** Typed whole-fleet queries, statements prepared once. */
export function createFleetStatsQueries(db: Db) {
  const connections = db.prepare<
    [],
    {
      company: string;
      state: string;
      since: number;
      reason: string | null;
      code: number | null;
      down_since: number | null;
    }
  >("SELECT company, state, since, reason, code, down_since FROM connection_state");
  const levels = db.prepare<[], { company: string; level: Level; level_since: number }>(
    "SELECT company, level, level_since FROM alert_state",
  );
  const pairings = db.prepare<
    [],
    {
      company: string;
      qr: string | null;
      qr_at: number | null;
      pairing_code: string | null;
      code_at: number | null;
    }
  >("SELECT company, qr, qr_at, pairing_code, code_at FROM pairing");
  const lastSteps = db.prepare<[], LadderStepRow>(
    `SELECT id, company, step, reason, result, at FROM ladder_steps
     WHERE id IN (SELECT MAX(id) FROM ladder_steps GROUP BY company)`,
  );
  const stepTotals = db.prepare<[], { step: string; result: string; n: number }>(
    "SELECT step, result, COUNT(*) AS n FROM ladder_steps GROUP BY step, result",
  );
  const begin = db.prepare("BEGIN IMMEDIATE");
  const rollback = db.prepare("ROLLBACK");

  return {
    /** Current connection state of every company that reported one. */
    connections(): Map<string, ConnectionRow> {
      return new Map(
        connections
          .all()
          .map((r) => [
            r.company,
            { state: r.state, since: r.since, reason: r.reason, code: r.code, downSince: r.down_since },
          ]),
      );
    },
    /** Alert level (and since when) of every evaluated company. */
    levels(): Map<string, { level: Level; since: number }> {
      return new Map(levels.all().map((r) => [r.company, { level: r.level, since: r.level_since }]));
    },
    /** Pairing material of every company pairing now. */
    pairings(): Map<string, PairingRow> {
      return new Map(
        pairings
          .all()
          .map((r) => [
            r.company,
            { qr: r.qr, qrAt: r.qr_at, pairingCode: r.pairing_code, codeAt: r.code_at },
          ]),
      );
    },
    /** The newest ladder step of every company that had one. */
    lastLadderSteps(): Map<string, LadderStepRow> {
      return new Map(lastSteps.all().map((r) => [r.company, r]));
    },
    /** Ladder steps recorded, by step and result. */
    ladderStepTotals(): { step: string; result: string; n: number }[] {
      return stepTotals.all();
    },
    /**
     * Whether a write transaction can start now (takes and releases the write lock, writes
     * nothing). Throws what SQLite said when it cannot (read-only file, disk I/O error, locked).
     */
    assertWritable(): void {
      if (db.inTransaction) return;
      begin.run();
      rollback.run();
    },
  };
}

/** The fleet-stats query set. */
export type FleetStatsQueries = ReturnType<typeof createFleetStatsQueries>;
