/** Queries on companies (current counts) and count_history (compact trend). */
import type { Db } from "./db.js";
import type {
  CategoryCounts,
  CountBasis,
  CredsState,
  FolderSnapshot,
  IrregularEntry,
} from "./snapshot-types.js";

/** A company row as stored. */
export interface CompanyRow {
  id: string;
  firstSeenAt: number;
  removedAt: number | null;
  scannedAt: number;
  total: number;
  /** The number the thresholds apply to (per `basis`). */
  counted: number;
  basis: CountBasis;
  /** Files the smart cleanup would delete at the scan. */
  stale: number;
  /** Newest pre-keys left out of basis "counted". */
  reserve: number;
  /** Files a rule would delete but minAge keeps, and when the first may go. */
  heldByMinAge: number;
  heldUntil: number | null;
  byCategory: CategoryCounts;
  preKeys: number;
  maxPreKeyId: number | null;
  credsState: CredsState;
  credsError: string | null;
  newestWriteAt: number | null;
  irregular: IrregularEntry[];
}

/** What a ladder pass reads of a company: its id, counts and creds state (no JSON columns). */
export type CompanyCounts = Pick<
  CompanyRow,
  "id" | "total" | "counted" | "stale" | "heldByMinAge" | "heldUntil" | "credsState"
>;

interface RawCompany {
  id: string;
  first_seen_at: number;
  removed_at: number | null;
  scanned_at: number;
  total: number;
  counted: number;
  basis: CountBasis;
  stale: number;
  reserve: number;
  held_by_min_age: number;
  held_until: number | null;
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
    basis: raw.basis,
    stale: raw.stale,
    reserve: raw.reserve,
    heldByMinAge: raw.held_by_min_age,
    heldUntil: raw.held_until,
    byCategory: JSON.parse(raw.by_category) as CategoryCounts,
    preKeys: raw.pre_keys,
    maxPreKeyId: raw.max_pre_key_id,
    credsState: raw.creds_state,
    credsError: raw.creds_error,
    newestWriteAt: raw.newest_write_at,
    irregular: JSON.parse(raw.irregular) as IrregularEntry[],
  };
}

/** The judged counts stored with a snapshot (see src/actions/cleanup/count-stale.ts). */
export interface SavedCounts {
  counted: number;
  basis: CountBasis;
  stale: number;
  reserve: number;
  heldByMinAge: number;
  heldUntil: number | null;
}

/**
 * How stale `scanned_at` may get on an unchanged company: a full scan rewrites a row only when
 * something in it changed, or its scan time is older than this.
 */
export const SCANNED_AT_REFRESH_MS = 600_000;

/** Typed company queries, statements prepared once. */
export function createCompanyQueries(db: Db) {
  const upsert = db.prepare(`
    INSERT INTO companies (id, first_seen_at, removed_at, scanned_at, total, counted, basis, stale, reserve,
                           held_by_min_age, held_until, by_category, pre_keys,
                           max_pre_key_id, creds_state, creds_error, newest_write_at, irregular)
    VALUES (@id, @scannedAt, NULL, @scannedAt, @total, @counted, @basis, @stale, @reserve,
            @heldByMinAge, @heldUntil, @byCategory, @preKeys,
            @maxPreKeyId, @credsState, @credsError, @newestWriteAt, @irregular)
    ON CONFLICT (id) DO UPDATE SET
      removed_at = NULL, scanned_at = excluded.scanned_at, total = excluded.total, counted = excluded.counted,
      basis = excluded.basis, stale = excluded.stale, reserve = excluded.reserve,
      held_by_min_age = excluded.held_by_min_age, held_until = excluded.held_until,
      by_category = excluded.by_category, pre_keys = excluded.pre_keys, max_pre_key_id = excluded.max_pre_key_id,
      creds_state = excluded.creds_state, creds_error = excluded.creds_error,
      newest_write_at = MAX(COALESCE(companies.newest_write_at, 0), COALESCE(excluded.newest_write_at, 0)),
      irregular = excluded.irregular
    -- Only a row that changed is written (invariant of the fleet's speed: a full scan of 10,000
    -- unchanged folders writes nothing); scanned_at alone is refreshed at most every 10 minutes.
    WHERE companies.removed_at IS NOT NULL
      OR companies.scanned_at < excluded.scanned_at - ${SCANNED_AT_REFRESH_MS}
      OR companies.total IS NOT excluded.total OR companies.counted IS NOT excluded.counted
      OR companies.basis IS NOT excluded.basis OR companies.stale IS NOT excluded.stale
      OR companies.reserve IS NOT excluded.reserve
      OR companies.held_by_min_age IS NOT excluded.held_by_min_age
      OR companies.held_until IS NOT excluded.held_until
      OR companies.by_category IS NOT excluded.by_category OR companies.pre_keys IS NOT excluded.pre_keys
      OR companies.max_pre_key_id IS NOT excluded.max_pre_key_id
      OR companies.creds_state IS NOT excluded.creds_state OR companies.creds_error IS NOT excluded.creds_error
      OR COALESCE(excluded.newest_write_at, 0) > COALESCE(companies.newest_write_at, 0)
      OR companies.irregular IS NOT excluded.irregular`);
  const markRemoved = db.prepare("UPDATE companies SET removed_at = ? WHERE id = ? AND removed_at IS NULL");
  const get = db.prepare<[string], RawCompany>("SELECT * FROM companies WHERE id = ?");
  const listPresent = db.prepare<[], RawCompany>(
    "SELECT * FROM companies WHERE removed_at IS NULL ORDER BY id",
  );
  const presentPage = db.prepare<[string, number], RawCompany>(
    "SELECT * FROM companies WHERE removed_at IS NULL AND id > ? ORDER BY id LIMIT ?",
  );
  // Rows as arrays (raw) made into objects in JS: cheaper than named rows, 10,000 a ladder pass.
  const presentCountsPage = db
    .prepare<[string, number], [string, number, number, number, number, number | null, CredsState]>(
      `SELECT id, total, counted, stale, held_by_min_age, held_until, creds_state
       FROM companies WHERE removed_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
    )
    .raw(true);
  const lastHistory = db.prepare<[string], { total: number; counted: number; stale: number }>(
    "SELECT total, counted, stale FROM count_history WHERE company = ? ORDER BY at DESC LIMIT 1",
  );
  const insertHistory = db.prepare(
    "INSERT OR REPLACE INTO count_history (company, at, total, counted, stale) VALUES (?, ?, ?, ?, ?)",
  );
  const history = db.prepare<[string, number], { at: number; total: number; counted: number; stale: number }>(
    "SELECT at, total, counted, stale FROM count_history WHERE company = ? AND at >= ? ORDER BY at",
  );
  const pruneHistory = db.prepare("DELETE FROM count_history WHERE at < ?");

  return {
    ...presenceQueries(db),
    /**
     * Stores a fresh snapshot with its judged counts (a bare number: basis "counted", nothing stale
     * known); a history point is added when total, counted or stale changed. False: the row was
     * unchanged and nothing was written (see SCANNED_AT_REFRESH_MS).
     */
    save(snapshot: FolderSnapshot, judged: number | SavedCounts): boolean {
      const c: SavedCounts =
        typeof judged === "number"
          ? { counted: judged, basis: "counted", stale: 0, reserve: 0, heldByMinAge: 0, heldUntil: null }
          : judged;
      const counted = c.counted;
      const written = upsert.run({
        id: snapshot.company,
        scannedAt: snapshot.scannedAt,
        total: snapshot.total,
        counted,
        basis: c.basis,
        stale: c.stale,
        reserve: c.reserve,
        heldByMinAge: c.heldByMinAge,
        heldUntil: c.heldUntil,
        byCategory: JSON.stringify(snapshot.byCategory),
        preKeys: snapshot.preKeys,
        maxPreKeyId: snapshot.maxPreKeyId,
        credsState: snapshot.creds.state,
        credsError: snapshot.creds.error ?? null,
        newestWriteAt: snapshot.newestWriteAt,
        irregular: JSON.stringify(snapshot.irregular),
      }).changes;
      // Unchanged row: total, counted and stale are those of the last history point already.
      if (written === 0) return false;
      const last = lastHistory.get(snapshot.company);
      if (!last || last.total !== snapshot.total || last.counted !== counted || last.stale !== c.stale) {
        insertHistory.run(snapshot.company, snapshot.scannedAt, snapshot.total, counted, c.stale);
      }
      return true;
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
    /** At most `limit` companies present, in id order after `afterId` ("": from the first). */
    listPresentPage(afterId: string, limit: number): CompanyRow[] {
      return presentPage.all(afterId, limit).map(toCompanyRow);
    },
    /**
     * listPresentPage with only the counts a ladder pass (or a look at the fleet's ids) reads: at
     * 10,000 companies parsing every row's JSON columns each pass was a tenth of the supervisor's
     * idle CPU.
     */
    listPresentCountsPage(afterId: string, limit: number): CompanyCounts[] {
      return presentCountsPage
        .all(afterId, limit)
        .map(([id, total, counted, stale, heldByMinAge, heldUntil, credsState]) => ({
          id,
          total,
          counted,
          stale,
          heldByMinAge,
          heldUntil,
          credsState,
        }));
    },
    /** Count history points since `since` (a point is stored only when the counts change). */
    history(company: string, since: number): { at: number; total: number; counted: number; stale: number }[] {
      return history.all(company, since);
    },
    /** Drops history older than `before`; returns rows deleted. */
    pruneHistory(before: number): number {
      return pruneHistory.run(before).changes;
    },
  };
}

/** How many companies are present, and whether one is: without listing them. */
function presenceQueries(db: Db) {
  const count = db.prepare<[], [number]>("SELECT COUNT(*) FROM companies WHERE removed_at IS NULL").raw(true);
  const present = db
    .prepare<[string], [number]>("SELECT 1 FROM companies WHERE id = ? AND removed_at IS NULL")
    .raw(true);
  return {
    /** How many companies have their folder present. */
    presentCount(): number {
      return count.get()?.[0] ?? 0;
    },
    /** True when the company is known and its folder present. */
    isPresent(company: string): boolean {
      return present.get(company) !== undefined;
    },
  };
}

/** The company query set. */
export type CompanyQueries = ReturnType<typeof createCompanyQueries>;
