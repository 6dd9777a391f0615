/**
 * A company's auth state in its own SQLite file (WARDEN_HOME/auth/<company>.sqlite). The tables
 * follow Baileys' useSqliteAuthState (develop branch): `creds(key, value)` and
 * `signal_keys(type, id, value)`, plus our columns: the key id of the row's encryption, its size,
 * and created_at / updated_at / last_read_at (ms), which give the cleanup rules a row's age as a
 * file's mtime does. Values are sealed per row (row-cipher.ts); `warden_meta` holds the database's
 * HKDF salt and, in plain, what the creds row says (own users, newest pre-key id) so the scanner
 * counts without the key.
 * One transaction per write (Baileys' keys.set), WAL with synchronous=FULL: a kill -9 or a power
 * cut leaves every key either as it was or as written. A database file that vanished or was
 * replaced under an open connection is refused before the next write (the writes would land in an
 * unlinked file and be lost).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { type CredsFacts, credsFacts } from "../fleet/scan-folder.js";
import type { AuthPut, AuthRow, AuthRowInfo, AuthRows } from "./auth-rows.js";
import { deletableRows, nameOfKey, type RowKey, rowOfName, storableRow } from "./key-names.js";
import { type AuthKey, type RowCipher, requireCipher } from "./row-cipher.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS creds (
  key TEXT PRIMARY KEY, value BLOB NOT NULL, key_id TEXT NOT NULL, size INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_read_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signal_keys (
  type TEXT NOT NULL, id TEXT NOT NULL, value BLOB NOT NULL, key_id TEXT NOT NULL, size INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_read_at INTEGER NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
-- Covers the scanner's and the planner's listing: counting never reads the sealed values.
CREATE INDEX IF NOT EXISTS signal_keys_ages ON signal_keys (type, id, size, created_at, updated_at, last_read_at);
CREATE TABLE IF NOT EXISTS warden_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** How to open a company's database. */
export interface SqliteRowsOptions {
  /** The company (recorded in a new database, checked in an existing one). */
  company: string;
  /** Needed to read or write values; listing and counting work without it. */
  key?: AuthKey;
  /** Create the file when missing (a migration); otherwise a missing file is an error (fail closed). */
  create?: boolean;
  /** Read-only connection (the scanner). */
  readonly?: boolean;
}

interface RowRecord {
  name: string;
  value: Buffer;
  key_id: string;
  size: number;
  created_at: number;
  updated_at: number;
  last_read_at: number;
}

const SELECT_ALL = `
SELECT 'creds.json' AS name, value, key_id, size, created_at, updated_at, last_read_at FROM creds WHERE key = 'creds'
UNION ALL
SELECT type || '-' || id || '.json', value, key_id, size, created_at, updated_at, last_read_at FROM signal_keys`;

/** Opens (or creates) a company's SQLite auth database; throws a coded error naming the file when it cannot. */
export function openSqliteRows(file: string, options: SqliteRowsOptions): SqliteRows {
  return new SqliteRows(file, options);
}

/** One company's rows in SQLite. */
export class SqliteRows implements AuthRows {
  readonly kind = "sqlite" as const;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly cipher: RowCipher | undefined;
  private readonly inode: number;
  private closed = false;

  constructor(file: string, options: SqliteRowsOptions) {
    this.location = file;
    if (options.create) mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st && !options.create) {
      throw new WardenError(
        ErrorCodes.AUTH_STORE_UNAVAILABLE,
        `The auth database ${file} of ${options.company} does not exist: its warden-auth.json names the sqlite store; restore the file or migrate the company (never started fresh: that would be a new identity)`,
        { company: options.company, file },
      );
    }
    this.db = unavailable(file, "opening", () => {
      const db = new Database(file, { readonly: options.readonly === true, fileMustExist: !options.create });
      db.pragma("busy_timeout = 5000");
      if (!options.readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = FULL");
        db.exec(SCHEMA);
      }
      return db;
    });
    this.inode = statSync(file).ino;
    const meta = this.meta();
    const owner = meta.get("company");
    if (owner !== undefined && owner !== options.company) {
      this.db.close();
      throw new WardenError(
        ErrorCodes.AUTH_STORE_UNAVAILABLE,
        `${file} holds the auth state of ${owner}, not of ${options.company}`,
        { company: options.company, file, owner },
      );
    }
    if (!options.readonly && owner === undefined) {
      const put = this.db.prepare("INSERT OR IGNORE INTO warden_meta (name, value) VALUES (?, ?)");
      this.db.transaction(() => {
        put.run("company", options.company);
        put.run("salt", randomBytes(16).toString("hex"));
        put.run("schema", "1");
      })();
    }
    const salt = this.meta().get("salt");
    this.cipher = options.key && salt ? options.key.forDatabase(Buffer.from(salt, "hex")) : undefined;
  }

  private meta(): Map<string, string> {
    const rows = unavailable(this.location, "reading warden_meta", () =>
      this.db.prepare("SELECT name, value FROM warden_meta").all(),
    ) as { name: string; value: string }[];
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  private requireCipher(): RowCipher {
    return requireCipher(this.cipher, this.location, { file: this.location });
  }

  async list(): Promise<AuthRowInfo[]> {
    const rows = unavailable(this.location, "listing rows", () =>
      this.db
        .prepare(
          `SELECT 'creds.json' AS name, size, created_at, updated_at, last_read_at FROM creds WHERE key = 'creds'
           UNION ALL SELECT type || '-' || id || '.json', size, created_at, updated_at, last_read_at FROM signal_keys`,
        )
        .all(),
    ) as Omit<RowRecord, "value" | "key_id">[];
    return rows.map(toInfo);
  }

  async read(names: readonly string[], touchAt?: number): Promise<Map<string, Buffer>> {
    const cipher = this.requireCipher();
    const out = new Map<string, Buffer>();
    const getCreds = this.db.prepare("SELECT value, key_id FROM creds WHERE key = 'creds'");
    const getKey = this.db.prepare("SELECT value, key_id FROM signal_keys WHERE type = ? AND id = ?");
    const found: RowKey[] = [];
    unavailable(this.location, "reading rows", () => {
      for (const name of names) {
        const key = rowOfName(name);
        if (!key) continue;
        const row = (key.table === "creds" ? getCreds.get() : getKey.get(key.type, key.id)) as
          | Pick<RowRecord, "value" | "key_id">
          | undefined;
        if (!row) continue;
        out.set(name, cipher.open(aadOf(key), row.value, row.key_id, this.location));
        found.push(key);
      }
    });
    if (touchAt !== undefined && found.length > 0) this.touch(found, touchAt);
    return out;
  }

  /** Records reads: last_read_at moves only when a minute older, so reads cost no write each. */
  private touch(keys: readonly RowKey[], at: number): void {
    const touchKey = this.db.prepare(
      "UPDATE signal_keys SET last_read_at = ? WHERE type = ? AND id = ? AND last_read_at < ?",
    );
    this.transact("recording reads", () => {
      for (const key of keys)
        if (key.table === "signal_keys") touchKey.run(at, key.type, key.id, at - 60_000);
    });
  }

  async readAll(): Promise<AuthRow[]> {
    const cipher = this.requireCipher();
    const rows = unavailable(this.location, "reading rows", () =>
      this.db.prepare(SELECT_ALL).all(),
    ) as RowRecord[];
    return rows.map((r) => {
      const key = rowOfName(r.name) as RowKey;
      return { ...toInfo(r), data: cipher.open(aadOf(key), r.value, r.key_id, this.location) };
    });
  }

  async write(puts: readonly AuthPut[], deletes: readonly string[], now: number): Promise<void> {
    this.apply(puts, deletes, now, false);
  }

  async replaceAll(rows: readonly AuthPut[], now: number): Promise<void> {
    const keep = new Set(rows.map((r) => r.name));
    const existing = (await this.list()).map((r) => r.name).filter((n) => n !== "creds.json" && !keep.has(n));
    // One transaction: the new rows, every row the new set does not hold, creds when it holds none.
    this.apply(rows, existing, now, !keep.has("creds.json"));
  }

  private apply(puts: readonly AuthPut[], deletes: readonly string[], now: number, dropCreds: boolean): void {
    const cipher = this.requireCipher();
    const statements = this.statements();
    const sealed = puts.map((put) => {
      const key = storableRow(put.name, this.location, { file: this.location });
      return { key, put, value: cipher.seal(aadOf(key), put.data) };
    });
    const removed = deletableRows(deletes, this.location, { file: this.location });
    this.assertSameFile();
    this.transact("writing rows", () => {
      for (const { key, put, value } of sealed) {
        const at = put.at ?? now;
        if (key.table === "creds") {
          statements.putCreds.run(value, cipher.keyId, put.data.length, at, at, at);
          statements.putMeta.run("creds_facts", JSON.stringify(credsFacts(put.data)));
        } else statements.putKey.run(key.type, key.id, value, cipher.keyId, put.data.length, at, at, at);
      }
      for (const key of removed) if (key.table === "signal_keys") statements.deleteKey.run(key.type, key.id);
      if (dropCreds) {
        this.db.prepare("DELETE FROM creds").run();
        this.db.prepare("DELETE FROM warden_meta WHERE name = 'creds_facts'").run();
      }
    });
  }

  async credsFacts(): Promise<CredsFacts & { present: boolean }> {
    const present =
      unavailable(this.location, "reading creds", () =>
        this.db.prepare("SELECT 1 FROM creds WHERE key = 'creds'").get(),
      ) !== undefined;
    const facts = this.meta().get("creds_facts");
    if (!present) return { present, state: "missing", ownUsers: null, newestPreKeyId: null };
    if (facts === undefined)
      return { present, state: "corrupt", error: "no facts recorded", ownUsers: null, newestPreKeyId: null };
    return { present, ...(JSON.parse(facts) as CredsFacts) };
  }

  /** A consistent copy of the whole database in `file` (which must not exist): kept aside before a restore or a migration. */
  async copyTo(file: string): Promise<void> {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    unavailable(this.location, `copying to ${file}`, () => this.db.prepare("VACUUM INTO ?").run(file));
  }

  async keepCopy(asideBase: string): Promise<string> {
    await this.copyTo(`${asideBase}.sqlite`);
    return `${asideBase}.sqlite`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private statements() {
    return {
      putCreds: this.db.prepare(
        `INSERT INTO creds (key, value, key_id, size, created_at, updated_at, last_read_at) VALUES ('creds', ?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, key_id = excluded.key_id, size = excluded.size,
           updated_at = excluded.updated_at, last_read_at = excluded.last_read_at`,
      ),
      putKey: this.db.prepare(
        `INSERT INTO signal_keys (type, id, value, key_id, size, created_at, updated_at, last_read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(type, id) DO UPDATE SET value = excluded.value, key_id = excluded.key_id, size = excluded.size,
           updated_at = excluded.updated_at, last_read_at = excluded.last_read_at`,
      ),
      deleteKey: this.db.prepare("DELETE FROM signal_keys WHERE type = ? AND id = ?"),
      putMeta: this.db.prepare(
        "INSERT INTO warden_meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ),
    };
  }

  private transact(what: string, fn: () => void): void {
    unavailable(this.location, what, () => this.db.transaction(fn)());
  }

  /** The file we opened is still the one at its path (not deleted, not swapped). */
  private assertSameFile(): void {
    const st = statSync(this.location, { throwIfNoEntry: false });
    if (!st || st.ino !== this.inode) {
      throw new WardenError(
        ErrorCodes.AUTH_STORE_UNAVAILABLE,
        `The auth database ${this.location} was ${st ? "replaced" : "deleted"} while open: nothing more is written to it`,
        { file: this.location },
      );
    }
  }
}

/**
 * Moves a closed company database to `to` as one self-contained file: its WAL is checkpointed into
 * it first (renaming the main file alone would leave committed writes behind in `-wal`).
 */
export function moveSqliteDatabase(from: string, to: string): void {
  unavailable(from, `moving it to ${to}`, () => {
    const db = new Database(from, { fileMustExist: true });
    try {
      db.pragma("busy_timeout = 5000");
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.pragma("journal_mode = DELETE");
    } finally {
      db.close();
    }
    mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
    renameSync(from, to);
  });
}

function toInfo(r: Omit<RowRecord, "value" | "key_id">): AuthRowInfo {
  return {
    name: r.name,
    size: r.size,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastReadAt: r.last_read_at,
  };
}

/** Additional data of a row's seal: its table and key, so a value moved to another row fails. */
function aadOf(key: RowKey): string {
  return key.table === "creds" ? "creds/creds" : `signal_keys/${nameOfKey(key.type, key.id)}`;
}

/** Runs a database call; SQLite's errors (full disk, not a database, I/O) become one coded error naming the file. */
function unavailable<T>(file: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WardenError) throw err;
    const code = (err as { code?: unknown }).code;
    const why = code === "SQLITE_FULL" ? "the disk is full (SQLITE_FULL)" : describeError(err);
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `The auth database ${file} failed while ${what}: ${why}`,
      { file, step: what, code: typeof code === "string" ? code : null },
      { cause: err },
    );
  }
}
