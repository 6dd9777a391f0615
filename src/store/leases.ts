/**
 * Leases: one socket per company, ever. A worker connects a company only while it holds the
 * company's lease row; it renews it with its heartbeat. A crashed worker's lease expires and is
 * taken over; the history shows who held what when (intervals never overlap).
 */
import type { Db } from "./db.js";

/** A lease row. */
export interface LeaseRow {
  company: string;
  holder: string;
  pid: number;
  acquiredAt: number;
  expiresAt: number;
}

/** One interval in the lease history. */
export interface LeaseHistoryRow {
  company: string;
  holder: string;
  pid: number;
  acquiredAt: number;
  releasedAt: number | null;
  releaseReason: string | null;
}

const toRow = (r: {
  company: string;
  holder: string;
  pid: number;
  acquired_at: number;
  expires_at: number;
}): LeaseRow => ({
  company: r.company,
  holder: r.holder,
  pid: r.pid,
  acquiredAt: r.acquired_at,
  expiresAt: r.expires_at,
});

/** Typed lease queries. */
export function createLeaseQueries(db: Db) {
  const get = db.prepare<
    [string],
    { company: string; holder: string; pid: number; acquired_at: number; expires_at: number }
  >("SELECT * FROM leases WHERE company = ?");
  const put = db.prepare(
    "INSERT OR REPLACE INTO leases (company, holder, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)",
  );
  const renew = db.prepare("UPDATE leases SET expires_at = ? WHERE company = ? AND holder = ?");
  // Every lease of the list that `holder` still has, in one statement (json_each: one bound array).
  const renewMany = db.prepare(
    "UPDATE leases SET expires_at = ? WHERE holder = ? AND company IN (SELECT value FROM json_each(?))",
  );
  const remove = db.prepare("DELETE FROM leases WHERE company = ? AND holder = ?");
  const openHistory = db.prepare(
    "INSERT INTO lease_history (company, holder, pid, acquired_at) VALUES (?, ?, ?, ?)",
  );
  const closeHistory = db.prepare(
    "UPDATE lease_history SET released_at = ?, release_reason = ? WHERE company = ? AND holder = ? AND released_at IS NULL",
  );
  const heldBy = db.prepare<[string], { company: string }>("SELECT company FROM leases WHERE holder = ?");
  const history = db.prepare<
    [],
    {
      company: string;
      holder: string;
      pid: number;
      acquired_at: number;
      released_at: number | null;
      release_reason: string | null;
    }
  >("SELECT * FROM lease_history ORDER BY id");
  const all = db.prepare<
    [],
    { company: string; holder: string; pid: number; acquired_at: number; expires_at: number }
  >("SELECT * FROM leases ORDER BY company");

  return {
    /**
     * Takes (or renews) the lease when it is free, expired or already ours. The expired holder's
     * interval is closed at its expiry time, which is <= now: intervals never overlap.
     */
    acquire(company: string, holder: string, pid: number, now: number, ttlMs: number): boolean {
      return db
        .transaction(() => {
          const current = get.get(company);
          if (current && current.holder === holder) {
            renew.run(now + ttlMs, company, holder);
            return true;
          }
          if (current && current.expires_at > now) return false;
          if (current) closeHistory.run(current.expires_at, "expired", company, current.holder);
          put.run(company, holder, pid, now, now + ttlMs);
          openHistory.run(company, holder, pid, now);
          return true;
        })
        .immediate();
    },
    /** Extends a lease we hold; false when it is no longer ours. */
    renew(company: string, holder: string, now: number, ttlMs: number): boolean {
      return renew.run(now + ttlMs, company, holder).changes === 1;
    },
    /**
     * Extends every lease of `companies` that `holder` still has, in one transaction (one UPDATE
     * however many companies: a worker of 10,000 companies once held the write lock 10,000 times
     * per heartbeat). Returns the companies whose lease is no longer ours: they are not retaken.
     */
    renewAll(companies: readonly string[], holder: string, now: number, ttlMs: number): string[] {
      if (companies.length === 0) return [];
      return db
        .transaction(() => {
          const renewed = renewMany.run(now + ttlMs, holder, JSON.stringify(companies)).changes;
          if (renewed === companies.length) return [];
          const ours = new Set(heldBy.all(holder).map((r) => r.company));
          return companies.filter((company) => !ours.has(company));
        })
        .immediate();
    },
    /** Gives a lease back. */
    release(company: string, holder: string, now: number, reason: string): void {
      db.transaction(() => {
        if (remove.run(company, holder).changes === 1) closeHistory.run(now, reason, company, holder);
      })();
    },
    /** Companies whose lease `holder` has. */
    heldBy(holder: string): string[] {
      return heldBy.all(holder).map((r) => r.company);
    },
    /** The current lease of a company. */
    get(company: string): LeaseRow | undefined {
      const r = get.get(company);
      return r ? toRow(r) : undefined;
    },
    /** Every current lease. */
    all(): LeaseRow[] {
      return all.all().map(toRow);
    },
    /** The whole history, oldest first. */
    history(): LeaseHistoryRow[] {
      return history.all().map((r) => ({
        company: r.company,
        holder: r.holder,
        pid: r.pid,
        acquiredAt: r.acquired_at,
        releasedAt: r.released_at,
        releaseReason: r.release_reason,
      }));
    },
  };
}
