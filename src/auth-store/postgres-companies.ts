/**
 * What the scanner reads from the postgres store: every company's rows (name, size, times) and
 * creds facts, loaded in ONE query per refresh for the whole fleet, so the scanner's synchronous
 * batches (scan-folder.ts) count a postgres company from memory exactly as they count a sqlite one
 * from its file: exact live/stale from `updated_at`/`last_read_at`, never file mtimes.
 * The supervisor polls: each full scan (scan.reconcileEvery) refreshes first, which keeps status
 * as current as a sqlite company's between events. Fail closed: after a failed refresh every
 * postgres company's scan fails with the coded error (its last counts stay, reported once), it is
 * never counted as empty.
 */
import { ErrorCodes, WardenError } from "../errors.js";
import type { AuthRowInfo } from "./auth-rows.js";
import { PG_SCHEMA, PostgresDb } from "./postgres-db.js";
import { factsOf, toInfo } from "./postgres-rows.js";
import type { DatabaseListing } from "./sqlite-scan.js";

const S = PG_SCHEMA;

/** The listings of every postgres company, refreshed as a whole. */
export class PostgresCompanies {
  private readonly url: string;
  private listings = new Map<string, DatabaseListing>();
  private failure: WardenError | undefined;
  private loaded = false;
  /** Held from the first successful connect to close(): a refresh reuses the pool's connections. */
  private db: PostgresDb | undefined;
  private closed = false;

  constructor(url: string) {
    this.url = url;
  }

  /** Reloads every company's rows; a failure is kept and given to every listing until the next success. */
  async refresh(): Promise<void> {
    if (this.closed) return;
    try {
      this.db ??= await PostgresDb.acquire(this.url);
      this.listings = await loadAll(this.db);
      this.failure = undefined;
    } catch (err) {
      this.failure =
        err instanceof WardenError
          ? err
          : new WardenError(
              ErrorCodes.AUTH_STORE_UNAVAILABLE,
              `Cannot list the postgres auth store: ${String(err)}`,
              {},
            );
    } finally {
      this.loaded = true;
    }
  }

  /** Releases the pool handle; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const db = this.db;
    this.db = undefined;
    await db?.release();
  }

  /** The company's listing from the last refresh; a coded error when it failed or holds no such company. */
  listingSync(company: string): DatabaseListing {
    if (this.failure) throw this.failure;
    const listing = this.listings.get(company);
    if (!listing) {
      throw new WardenError(
        ErrorCodes.AUTH_STORE_UNAVAILABLE,
        this.loaded
          ? `The postgres auth store holds no rows of ${company}, whose warden-auth.json names it (restore them or migrate the company)`
          : `The postgres auth store has not been read yet (${company})`,
        { company, store: "postgres" },
      );
    }
    return listing;
  }
}

/** Every company's listing, in one round trip per table. */
async function loadAll(db: PostgresDb): Promise<Map<string, DatabaseListing>> {
  const companies = await db.query<{ company: string; creds_facts: string | null }>(
    "listing companies",
    `SELECT company, creds_facts FROM ${S}.companies WHERE position('@' in company) = 0`,
  );
  const rows = await db.query<{
    company: string;
    name: string;
    size: number;
    created_at: string;
    updated_at: string;
    last_read_at: string;
  }>(
    "listing rows",
    `SELECT company, 'creds.json' AS name, size, created_at, updated_at, last_read_at FROM ${S}.creds WHERE key = 'creds'
     UNION ALL
     SELECT company, type || '-' || id || '.json', size, created_at, updated_at, last_read_at FROM ${S}.signal_keys`,
  );
  const byCompany = new Map<string, AuthRowInfo[]>();
  for (const c of companies.rows) byCompany.set(c.company, []);
  for (const r of rows.rows) byCompany.get(r.company)?.push(toInfo(r));
  const out = new Map<string, DatabaseListing>();
  for (const c of companies.rows) {
    const list = byCompany.get(c.company) ?? [];
    out.set(c.company, {
      rows: list,
      facts: factsOf(
        list.some((r) => r.name === "creds.json"),
        c.creds_facts,
      ),
    });
  }
  return out;
}
