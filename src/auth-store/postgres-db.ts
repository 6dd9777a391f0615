/**
 * The PostgreSQL connection of the `postgres` auth store: ONE pool per process and URL (every
 * company's rows, the scanner and the actions share it), acquired and released by reference, so a
 * CLI command that released its last handle exits without a dangling socket.
 * The store lives in a schema of its own, `warden_auth`, created on first use under a
 * `pg_advisory_lock` (two processes starting at once would otherwise race on CREATE TABLE). Only
 * what is missing is created: a role with no CREATE on the database works once the schema exists.
 * Every error of the driver or the server becomes WARDEN_ERR_AUTH_STORE_UNAVAILABLE, its message
 * scrubbed of the URL's password (error texts reach logs, alerts and the bot). Fail closed: the
 * caller never reads an error as "no row".
 * The URL comes with every access (the worker's options, the action context, the CLI's env).
 * The driver is loaded with the first pool: a process without WARDEN_PG_URL never loads it (it
 * weighs ~15 MB of RSS, a quarter of the supervisor's budget).
 */
import type pg from "pg";
import { describeError, ErrorCodes, WardenError } from "../errors.js";

/** The schema wa-warden's tables live in. */
export const PG_SCHEMA = "warden_auth";

// Any constant: the key of the advisory lock that serializes schema creation across processes.
const SCHEMA_LOCK = 0x77617264656e; // "warden"

const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS ${PG_SCHEMA}.companies (
     company TEXT PRIMARY KEY, salt TEXT NOT NULL, creds_facts TEXT, schema_version INTEGER NOT NULL,
     created_at BIGINT NOT NULL)`,
  // PR #2575's creds(key, value) and signal_keys(type, id, value), plus the company (the database is
  // shared), the row's key id and size, and its times (ms).
  `CREATE TABLE IF NOT EXISTS ${PG_SCHEMA}.creds (
     company TEXT NOT NULL REFERENCES ${PG_SCHEMA}.companies (company) ON UPDATE CASCADE ON DELETE CASCADE,
     key TEXT NOT NULL, value BYTEA NOT NULL, key_id TEXT NOT NULL, size INTEGER NOT NULL,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_read_at BIGINT NOT NULL,
     PRIMARY KEY (company, key))`,
  `CREATE TABLE IF NOT EXISTS ${PG_SCHEMA}.signal_keys (
     company TEXT NOT NULL REFERENCES ${PG_SCHEMA}.companies (company) ON UPDATE CASCADE ON DELETE CASCADE,
     type TEXT NOT NULL, id TEXT NOT NULL, value BYTEA NOT NULL, key_id TEXT NOT NULL, size INTEGER NOT NULL,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_read_at BIGINT NOT NULL,
     PRIMARY KEY (company, type, id))`,
];

/** A query runner: the pool, or one client inside a transaction. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

interface Shared {
  pool: pg.Pool;
  refs: number;
  schema: Promise<void> | undefined;
}

const shared = new Map<string, Shared>();

let driverLoad: Promise<typeof pg> | undefined;
/** The pg module, imported once on first use. */
const loadDriver = (): Promise<typeof pg> => {
  driverLoad ??= import("pg").then((m) => m.default);
  return driverLoad;
};

/** The URL with its password replaced by `***` (for messages). */
export function scrubPgUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(a PostgreSQL URL that does not parse)";
  }
}

/** `text` with every occurrence of the URL and of its password replaced. */
function scrub(text: string, url: string): string {
  let out = text.split(url).join(scrubPgUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password.length > 0) out = out.split(password).join("***");
  } catch {
    // The URL does not parse: nothing more to take out than the URL itself.
  }
  return out;
}

/** One process's handle on the shared pool of a URL; `release()` it when done (idempotent). */
export class PostgresDb {
  /** The URL without its password: where, for messages. */
  readonly where: string;
  private readonly url: string;
  private readonly entry: Shared;
  private released = false;

  private constructor(url: string, entry: Shared) {
    this.url = url;
    this.entry = entry;
    this.where = scrubPgUrl(url);
  }

  /** The pool of `url` (created on first use) with the schema in place; a coded error when unreachable. */
  static async acquire(url: string): Promise<PostgresDb> {
    const driver = await loadDriver();
    let entry = shared.get(url);
    if (!entry) {
      const pool = new driver.Pool({
        connectionString: url,
        max: 4,
        connectionTimeoutMillis: 5_000,
        query_timeout: 30_000,
        keepAlive: true,
        application_name: "wa-warden",
      });
      // An idle client whose server went away emits here; without a listener the process would die.
      // The next query gets the error itself (fail closed), so nothing is lost by not acting on it.
      pool.on("error", () => undefined);
      entry = { pool, refs: 0, schema: undefined };
      shared.set(url, entry);
    }
    entry.refs++;
    const db = new PostgresDb(url, entry);
    try {
      entry.schema ??= db.createSchema().catch((err) => {
        entry.schema = undefined; // tried again by the next acquire
        throw err;
      });
      await entry.schema;
    } catch (err) {
      await db.release();
      throw err;
    }
    return db;
  }

  /** Runs one statement; any failure is a coded error naming `what`. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    what: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen(what);
    try {
      return await this.entry.pool.query<R>(sql, params);
    } catch (err) {
      throw this.unavailable(what, err);
    }
  }

  /** Runs `fn` in one transaction (BEGIN … COMMIT); rolled back and a coded error on any failure. */
  async transaction<T>(what: string, fn: (client: PgQueryable) => Promise<T>): Promise<T> {
    this.assertOpen(what);
    let client: pg.PoolClient;
    try {
      client = await this.entry.pool.connect();
    } catch (err) {
      throw this.unavailable(what, err);
    }
    let broken: Error | undefined;
    // A checked-out client whose server goes away between two statements emits "error" on itself
    // (the pool listens only to idle ones): without this listener the process would die. The
    // statement in flight, or the next one, fails with it anyway.
    const onLost = (err: Error): void => {
      broken ??= err;
    };
    client.on("error", onLost);
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      await client.query("ROLLBACK").catch(() => undefined);
      if (err instanceof WardenError) throw err;
      throw this.unavailable(what, err);
    } finally {
      // A client that failed is dropped, not reused: its connection may be the broken part.
      client.removeListener("error", onLost);
      client.release(broken);
    }
  }

  /** Lets go of this handle; the pool ends with its last handle. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.entry.refs--;
    if (this.entry.refs === 0 && shared.get(this.url) === this.entry) {
      shared.delete(this.url);
      await this.entry.pool.end().catch(() => undefined);
    }
  }

  /** The coded error for a failure of the database while doing `what`, password scrubbed. */
  unavailable(what: string, err: unknown): WardenError {
    const code = (err as { code?: unknown }).code;
    return new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      scrub(`The postgres auth store ${this.where} failed while ${what}: ${describeError(err)}`, this.url),
      { store: "postgres", where: this.where, step: what, code: typeof code === "string" ? code : null },
    );
  }

  private assertOpen(what: string): void {
    if (this.released)
      throw new WardenError(
        ErrorCodes.AUTH_STORE_UNAVAILABLE,
        `The postgres auth store ${this.where} was closed before ${what}`,
        { store: "postgres", where: this.where },
      );
  }

  /** Creates what is missing of the schema, under an advisory lock held by one connection. */
  private async createSchema(): Promise<void> {
    await this.transaction("creating the warden_auth schema", async (client) => {
      // Transaction-scoped: released by COMMIT or ROLLBACK, even if this process dies.
      await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
      const found = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename IN ('companies', 'creds', 'signal_keys')",
        [PG_SCHEMA],
      );
      if (Number(found.rows[0]?.n) === 3) return;
      const schema = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [PG_SCHEMA]);
      if (schema.rowCount === 0) await client.query(`CREATE SCHEMA ${PG_SCHEMA}`);
      for (const sql of SCHEMA_SQL) await client.query(sql);
    });
  }
}

/** The URL given, or a coded error saying how to give one. */
export function requirePgUrl(given: string | undefined, company: string): string {
  const url = given;
  if (url === undefined || url.length === 0) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `${company} keeps its keys in the postgres store: set WARDEN_PG_URL (or WARDEN_PG_URL_FILE) to reach it`,
      { company, store: "postgres" },
    );
  }
  return url;
}
