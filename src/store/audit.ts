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
  // Every read is bounded: the newest `limit` rows below id `before`, returned oldest first.
  const ofCompany = db.prepare<[string, number, number], Raw>(
    "SELECT * FROM (SELECT * FROM audit WHERE company = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id",
  );
  const all = db.prepare<[number, number], Raw>(
    "SELECT * FROM (SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?) ORDER BY id",
  );
  const ofCompanies = db.prepare<[string, number, number], Raw>(
    "SELECT * FROM (SELECT * FROM audit WHERE company IN (SELECT value FROM json_each(?)) AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id",
  );
  const prune = db.prepare("DELETE FROM audit WHERE at < ?");
  const toRow = (r: Raw): AuditRow => ({ ...r, ok: r.ok === 1, detail: JSON.parse(r.detail) });
  const bound = (page: AuditPage) => ({
    before: page.before ?? Number.MAX_SAFE_INTEGER,
    limit: Math.max(1, Math.min(page.limit ?? AUDIT_PAGE_MAX, AUDIT_PAGE_MAX)),
  });
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
    /** One page of the rows of a company (or all), oldest first: the newest ones before `page.before`. */
    list(company?: string, page: AuditPage = {}): AuditRow[] {
      const { before, limit } = bound(page);
      return (company === undefined ? all.all(before, limit) : ofCompany.all(company, before, limit)).map(
        toRow,
      );
    },
    /** One page of the rows of any of `companies`, oldest first. */
    listIn(companies: readonly string[], page: AuditPage = {}): AuditRow[] {
      const { before, limit } = bound(page);
      return ofCompanies.all(JSON.stringify(companies), before, limit).map(toRow);
    },
    /** Deletes the rows older than `before` (audit.keep); returns how many. */
    prune(before: number): number {
      return prune.run(before).changes;
    },
  };
}

/** Which page of the audit log: at most `limit` rows (capped at AUDIT_PAGE_MAX) with id < `before`. */
export interface AuditPage {
  limit?: number;
  before?: number;
}

/** The most rows one audit read returns. */
export const AUDIT_PAGE_MAX = 1_000;
