/** The audit log: every destructive or operator action (who, what, on which company, outcome). */
import type { Db } from "./db.js";

/** One audit row; `detail` is the JSON the action recorded (backup path, deleted files...). */
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  company: string;
  action: string;
  ok: boolean;
  result: string;
  detail: Record<string, unknown>;
}

/** Typed audit queries. */
export function createAuditQueries(db: Db) {
  const insert = db.prepare(
    "INSERT INTO audit (at, actor, company, action, ok, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  type Raw = Omit<AuditRow, "ok" | "detail"> & { ok: number; detail: string };
  const ofCompany = db.prepare<[string], Raw>("SELECT * FROM audit WHERE company = ? ORDER BY id");
  const all = db.prepare<[], Raw>("SELECT * FROM audit ORDER BY id");
  const toRow = (r: Raw): AuditRow => ({ ...r, ok: r.ok === 1, detail: JSON.parse(r.detail) });
  return {
    /** Records one action; returns the row id. */
    add(row: Omit<AuditRow, "id">): number {
      return Number(
        insert.run(
          row.at,
          row.actor,
          row.company,
          row.action,
          row.ok ? 1 : 0,
          row.result,
          JSON.stringify(row.detail),
        ).lastInsertRowid,
      );
    },
    /** The rows of one company (or all), oldest first. */
    list(company?: string): AuditRow[] {
      return (company === undefined ? all.all() : ofCompany.all(company)).map(toRow);
    },
  };
}
