/** Queries on companies (current counts) and count_history (compact trend). */
import type { Db } from "./db.js";
import type { CategoryCounts, CredsState, FolderSnapshot, IrregularEntry } from "./snapshot-types.js";

/** A company row as stored. */
export interface CompanyRow {
  id: string;
  firstSeenAt: number;
  removedAt: number | null;
  scannedAt: number;
  total: number;
  counted: number;
  byCategory: CategoryCounts;
  preKeys: number;
  maxPreKeyId: number | null;
  credsState: CredsState;
  credsError: string | null;
  newestWriteAt: number | null;
  irregular: IrregularEntry[];
}

interface RawCompany {
  id: string;
  first_seen_at: number;
  removed_at: number | null;
  scanned_at: number;
  total: number;
  counted: number;
  by_category: string;
  pre_keys: number;
  max_pre_key_id: number | null;
  creds_state: CredsState;
  creds_error: string | null;
  newest_write_at: number | null;
  irregular: string;
}

function toCompanyRow(raw: RawCompany): CompanyRow {
  return {
    id: raw.id,
    firstSeenAt: raw.first_seen_at,
    removedAt: raw.removed_at,
    scannedAt: raw.scanned_at,
    total: raw.total,
    counted: raw.counted,
    byCategory: JSON.parse(raw.by_category) as CategoryCounts,
    preKeys: raw.pre_keys,
    maxPreKeyId: raw.max_pre_key_id,
    credsState: raw.creds_state,
    credsError: raw.creds_error,
    newestWriteAt: raw.newest_write_at,
    irregular: JSON.parse(raw.irregular) as IrregularEntry[],
  };
}

/** Typed company queries, statements prepared once. */
export function createCompanyQueries(db: Db) {
  const upsert = db.prepare(`
    INSERT INTO companies (id, first_seen_at, removed_at, scanned_at, total, counted, by_category, pre_keys,
                           max_pre_key_id, creds_state, creds_error, newest_write_at, irregular)
    VALUES (@id, @scannedAt, NULL, @scannedAt, @total, @counted, @byCategory, @preKeys,
            @maxPreKeyId, @credsState, @credsError, @newestWriteAt, @irregular)
    ON CONFLICT (id) DO UPDATE SET
      removed_at = NULL, scanned_at = excluded.scanned_at, total = excluded.total, counted = excluded.counted,
      by_category = excluded.by_category, pre_keys = excluded.pre_keys, max_pre_key_id = excluded.max_pre_key_id,
      creds_state = excluded.creds_state, creds_error = excluded.creds_error,
      newest_write_at = MAX(COALESCE(companies.newest_write_at, 0), COALESCE(excluded.newest_write_at, 0)),
      irregular = excluded.irregular`);
  const markRemoved = db.prepare("UPDATE companies SET removed_at = ? WHERE id = ? AND removed_at IS NULL");
  const get = db.prepare<[string], RawCompany>("SELECT * FROM companies WHERE id = ?");
  const listPresent = db.prepare<[], RawCompany>(
    "SELECT * FROM companies WHERE removed_at IS NULL ORDER BY id",
  );
  const lastHistory = db.prepare<[string], { total: number; counted: number }>(
    "SELECT total, counted FROM count_history WHERE company = ? ORDER BY at DESC LIMIT 1",
  );
  const insertHistory = db.prepare(
    "INSERT OR REPLACE INTO count_history (company, at, total, counted) VALUES (?, ?, ?, ?)",
  );
  const history = db.prepare<[string, number], { at: number; total: number; counted: number }>(
    "SELECT at, total, counted FROM count_history WHERE company = ? AND at >= ? ORDER BY at",
  );
  const pruneHistory = db.prepare("DELETE FROM count_history WHERE at < ?");

  return {
    /** Stores a fresh snapshot with its counted value; a history point is added when the counts changed. */
    save(snapshot: FolderSnapshot, counted: number): void {
      upsert.run({
        id: snapshot.company,
        scannedAt: snapshot.scannedAt,
        total: snapshot.total,
        counted,
        byCategory: JSON.stringify(snapshot.byCategory),
        preKeys: snapshot.preKeys,
        maxPreKeyId: snapshot.maxPreKeyId,
        credsState: snapshot.creds.state,
        credsError: snapshot.creds.error ?? null,
        newestWriteAt: snapshot.newestWriteAt,
        irregular: JSON.stringify(snapshot.irregular),
      });
      const last = lastHistory.get(snapshot.company);
      if (!last || last.total !== snapshot.total || last.counted !== counted) {
        insertHistory.run(snapshot.company, snapshot.scannedAt, snapshot.total, counted);
      }
    },
    /** Marks a company whose folder disappeared. */
    markRemoved(company: string, at: number): boolean {
      return markRemoved.run(at, company).changes > 0;
    },
    /** One company, removed or not. */
    get(company: string): CompanyRow | undefined {
      const raw = get.get(company);
      return raw ? toCompanyRow(raw) : undefined;
    },
    /** Every company whose folder is present. */
    listPresent(): CompanyRow[] {
      return listPresent.all().map(toCompanyRow);
    },
    /** Count history points since `since` (a point is stored only when the counts change). */
    history(company: string, since: number): { at: number; total: number; counted: number }[] {
      return history.all(company, since);
    },
    /** Drops history older than `before`; returns rows deleted. */
    pruneHistory(before: number): number {
      return pruneHistory.run(before).changes;
    },
  };
}

/** The company query set. */
export type CompanyQueries = ReturnType<typeof createCompanyQueries>;
