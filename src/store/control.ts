/**
 * Control of the workers through SQLite: what an operator wants for each company (run / stop,
 * pairing phone) and one-shot requests (reconnect, stop, start, pair) acknowledged with a result.
 */
import type { Db } from "./db.js";

/** Actions a control request can ask for. */
export const CONTROL_ACTIONS = ["reconnect", "stop", "start", "pair", "recreate"] as const;

/** A control action. */
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** A control request row. */
export interface ControlRequest {
  id: number;
  company: string;
  action: ControlAction;
  args: Record<string, unknown>;
  requestedBy: string;
  createdAt: number;
  pickedAt: number | null;
  pickedBy: string | null;
  doneAt: number | null;
  ok: boolean | null;
  result: string | null;
}

interface RawRequest {
  id: number;
  company: string;
  action: ControlAction;
  args: string;
  requested_by: string;
  created_at: number;
  picked_at: number | null;
  picked_by: string | null;
  done_at: number | null;
  ok: number | null;
  result: string | null;
}

const toRequest = (r: RawRequest): ControlRequest => ({
  id: r.id,
  company: r.company,
  action: r.action,
  args: JSON.parse(r.args) as Record<string, unknown>,
  requestedBy: r.requested_by,
  createdAt: r.created_at,
  pickedAt: r.picked_at,
  pickedBy: r.picked_by,
  doneAt: r.done_at,
  ok: r.ok === null ? null : r.ok === 1,
  result: r.result,
});

/** Typed control queries. */
export function createControlQueries(db: Db) {
  const insert = db.prepare(
    "INSERT INTO control_requests (company, action, args, requested_by, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  const pending = db.prepare<[], RawRequest>(
    "SELECT * FROM control_requests WHERE done_at IS NULL AND picked_at IS NULL ORDER BY id",
  );
  const pick = db.prepare(
    "UPDATE control_requests SET picked_at = ?, picked_by = ? WHERE id = ? AND picked_at IS NULL AND done_at IS NULL",
  );
  const finish = db.prepare(
    "UPDATE control_requests SET done_at = ?, ok = ?, result = ? WHERE id = ? AND done_at IS NULL",
  );
  const cancel = db.prepare(
    "UPDATE control_requests SET done_at = ?, ok = 0, result = ? WHERE id = ? AND picked_at IS NULL AND done_at IS NULL",
  );
  const get = db.prepare<[number], RawRequest>("SELECT * FROM control_requests WHERE id = ?");
  const getDesired = db.prepare<[string], { desired: "run" | "stop"; pairing_phone: string | null }>(
    "SELECT desired, pairing_phone FROM company_control WHERE company = ?",
  );
  const desiredBetween = db.prepare<[string, string], { company: string; desired: "run" | "stop" }>(
    "SELECT company, desired FROM company_control WHERE company > ? AND company <= ?",
  );
  const putDesired = db.prepare(`
    INSERT INTO company_control (company, desired, pairing_phone, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET desired = excluded.desired, pairing_phone = excluded.pairing_phone, updated_at = excluded.updated_at`);

  return {
    /** Queues a request; returns its id. */
    request(
      company: string,
      action: ControlAction,
      args: Record<string, unknown>,
      requestedBy: string,
      now: number,
    ): number {
      return Number(insert.run(company, action, JSON.stringify(args), requestedBy, now).lastInsertRowid);
    },
    /** Requests nobody has picked yet, oldest first. */
    pending(): ControlRequest[] {
      return pending.all().map(toRequest);
    },
    /** Claims a request; false when another process claimed it first. */
    pick(id: number, by: string, now: number): boolean {
      return pick.run(now, by, id).changes === 1;
    },
    /** Acknowledges a request with its result. */
    finish(id: number, ok: boolean, result: string, now: number): void {
      finish.run(now, ok ? 1 : 0, result, id);
    },
    /** Withdraws a request nobody picked (the CLI gave up waiting); false when it was picked meanwhile. */
    cancel(id: number, reason: string, now: number): boolean {
      return cancel.run(now, reason, id).changes === 1;
    },
    /** One request. */
    get(id: number): ControlRequest | undefined {
      const r = get.get(id);
      return r ? toRequest(r) : undefined;
    },
    /** What the operator wants for a company (default: run). */
    desired(company: string): { desired: "run" | "stop"; pairingPhone: string | null } {
      const r = getDesired.get(company);
      return { desired: r?.desired ?? "run", pairingPhone: r?.pairing_phone ?? null };
    },
    /**
     * What the operator wants for the companies with `after < id <= last` (one range read); a
     * company absent from the map wants the default, run.
     */
    desiredBetween(after: string, last: string): Map<string, "run" | "stop"> {
      const rows = new Map<string, "run" | "stop">();
      for (const r of desiredBetween.all(after, last)) rows.set(r.company, r.desired);
      return rows;
    },
    /** Records what the operator wants for a company. */
    setDesired(company: string, desired: "run" | "stop", pairingPhone: string | null, now: number): void {
      putDesired.run(company, desired, pairingPhone, now);
    },
  };
}

/** Named integer cursors (e.g. the last transition the supervisor has alerted on). */
export function createCursorQueries(db: Db) {
  const get = db.prepare<[string], { value: number }>("SELECT value FROM cursors WHERE name = ?");
  const put = db.prepare(
    "INSERT INTO cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  );
  return {
    get(name: string): number {
      return get.get(name)?.value ?? 0;
    },
    set(name: string, value: number): void {
      put.run(name, value);
    },
  };
}
