/** Queries on the ladder's per-company memory, its recorded steps, and the fleet's outages. */
import type { Db } from "./db.js";

/** One recorded ladder step: what was done (or held) for a company, why, and how it went. */
export interface LadderStepRow {
  id: number;
  company: string;
  step: string;
  reason: string;
  result: string;
  at: number;
}

/** A network outage of the fleet; `endedAt` is null while it lasts. */
export interface OutageRow {
  id: number;
  startedAt: number;
  endedAt: number | null;
  reason: string;
  down: number;
}

/** Typed ladder queries. The memory is opaque JSON owned by src/ladder. */
export function createLadderQueries(db: Db) {
  const getMemory = db.prepare<[string], { memory: string }>(
    "SELECT memory FROM ladder_state WHERE company = ?",
  );
  const memoryBetween = db.prepare<[string, string], { company: string; memory: string }>(
    "SELECT company, memory FROM ladder_state WHERE company > ? AND company <= ?",
  );
  const putMemory = db.prepare(`
    INSERT INTO ladder_state (company, memory, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET memory = excluded.memory, updated_at = excluded.updated_at`);
  const insertStep = db.prepare(
    "INSERT INTO ladder_steps (company, step, reason, result, at) VALUES (?, ?, ?, ?, ?)",
  );
  const updateStep = db.prepare("UPDATE ladder_steps SET result = ? WHERE id = ?");
  const stepsOf = db.prepare<[string], LadderStepRow>(
    "SELECT id, company, step, reason, result, at FROM ladder_steps WHERE company = ? ORDER BY id",
  );
  const allSteps = db.prepare<[], LadderStepRow>(
    "SELECT id, company, step, reason, result, at FROM ladder_steps ORDER BY id",
  );
  const currentOutage = db.prepare<[], OutageRow>(
    "SELECT id, started_at AS startedAt, ended_at AS endedAt, reason, down FROM outages WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1",
  );
  const startOutage = db.prepare("INSERT INTO outages (started_at, reason, down) VALUES (?, ?, ?)");
  const endOutage = db.prepare("UPDATE outages SET ended_at = ? WHERE ended_at IS NULL");

  return {
    /** The stored memory of a company (parsed JSON), or undefined when the ladder never saw it. */
    memory(company: string): unknown {
      const row = getMemory.get(company);
      return row ? JSON.parse(row.memory) : undefined;
    },
    /**
     * The stored memory of the companies with `after < id <= last` (one range read), as its JSON
     * text (what setMemory wrote), by company.
     */
    memoryTextBetween(after: string, last: string): Map<string, string> {
      const rows = new Map<string, string>();
      for (const r of memoryBetween.all(after, last)) rows.set(r.company, r.memory);
      return rows;
    },
    /** Stores a company's memory. */
    setMemory(company: string, memory: unknown, now: number): void {
      putMemory.run(company, JSON.stringify(memory), now);
    },
    /** Records a step; returns its id (the result can be updated when the executor finishes). */
    addStep(company: string, step: string, reason: string, result: string, now: number): number {
      return Number(insertStep.run(company, step, reason, result, now).lastInsertRowid);
    },
    /** Sets the result of a recorded step. */
    setStepResult(id: number, result: string): void {
      updateStep.run(result, id);
    },
    /** Steps of one company (or of every company), oldest first. */
    steps(company?: string): LadderStepRow[] {
      return company === undefined ? allSteps.all() : stepsOf.all(company);
    },
    /** The outage in progress, if any. */
    currentOutage(): OutageRow | undefined {
      return currentOutage.get();
    },
    /** Opens an outage record. */
    startOutage(reason: string, down: number, now: number): void {
      startOutage.run(now, reason, down);
    },
    /** Closes the outage in progress. */
    endOutage(now: number): void {
      endOutage.run(now);
    },
  };
}
