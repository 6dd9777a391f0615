/**
 * What the scanner reads from a company's SQLite auth database: every row's name and times, and
 * the creds facts kept in plain beside the creds row. Read-only, synchronous (the scanner's batches
 * run synchronously), no key needed: the values stay sealed.
 */
import Database from "better-sqlite3";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import type { CredsFacts } from "../store/snapshot-types.js";
import type { AuthRowInfo } from "./auth-rows.js";

/** The rows and creds facts of one company's database (any database store). */
export interface DatabaseListing {
  rows: AuthRowInfo[];
  facts: CredsFacts & { present: boolean };
}

/** The listing of a sqlite database. */
export type SqliteListing = DatabaseListing;

/** Where the scanner gets postgres companies' listings from (postgres-companies.ts, refreshed before each full scan). */
export interface PostgresListings {
  listingSync(company: string): DatabaseListing;
}

/** Lists `file` read-only; a missing or unreadable database is a coded error naming it. */
export function listSqliteSync(file: string, company: string): SqliteListing {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    const raw = db
      .prepare(
        `SELECT 'creds.json' AS name, size, created_at, updated_at, last_read_at FROM creds WHERE key = 'creds'
         UNION ALL SELECT type || '-' || id || '.json', size, created_at, updated_at, last_read_at FROM signal_keys`,
      )
      .all() as {
      name: string;
      size: number;
      created_at: number;
      updated_at: number;
      last_read_at: number;
    }[];
    const factsRow = db.prepare("SELECT value FROM warden_meta WHERE name = 'creds_facts'").get() as
      | { value: string }
      | undefined;
    const rows = raw.map((r) => ({
      name: r.name,
      size: r.size,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      lastReadAt: r.last_read_at,
    }));
    const present = rows.some((r) => r.name === "creds.json");
    const facts: SqliteListing["facts"] = !present
      ? { present, state: "missing", ownUsers: null, newestPreKeyId: null }
      : factsRow
        ? { present, ...(JSON.parse(factsRow.value) as CredsFacts) }
        : {
            present,
            state: "corrupt",
            error: "the creds row has no recorded facts",
            ownUsers: null,
            newestPreKeyId: null,
          };
    return { rows, facts };
  } catch (err) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `Cannot read the auth database ${file} of ${company}: ${describeError(err)}`,
      { company, file },
      { cause: err },
    );
  } finally {
    db?.close();
  }
}
