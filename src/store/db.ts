/**
 * Opens the shared SQLite database (WAL, busy_timeout, foreign keys), checks its integrity and
 * applies pending migrations. The supervisor, the workers and the CLI all open the same file.
 */
import { accessSync, chmodSync, closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ErrorCodes, WardenError } from "../errors.js";
import { migrations as allMigrations, type Migration } from "./migrations.js";

/** The better-sqlite3 connection type. */
export type Db = Database.Database;

/** Options for openDatabase. */
export interface OpenOptions {
  /** Milliseconds a writer waits for another process's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Migrations to apply (tests pass a custom list). */
  migrations?: readonly Migration[];
}

/** Opens (creating if needed) the database at `file`, verified and migrated. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    // Created 0600 whatever the umask: it holds creds snapshots (invariant 15); SQLite gives the WAL and
    // shared-memory files the database's own mode.
    closeSync(openSync(file, constants.O_CREAT | constants.O_RDWR, 0o600));
    db = new Database(file);
  } catch (err) {
    throw new WardenError(
      ErrorCodes.STORE_CORRUPT,
      `Cannot open database ${file}: ${whyNotWritable(file) ?? (err as Error).message}`,
      { file },
      {
        cause: err,
      },
    );
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    const check = db.pragma("integrity_check", { simple: true });
    if (check !== "ok") {
      throw new WardenError(
        ErrorCodes.STORE_CORRUPT,
        `Database ${file} failed its integrity check: ${String(check)}`,
        {
          file,
        },
      );
    }
    migrate(db, options.migrations ?? allMigrations, file);
    restrictModes(file);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof WardenError) throw err;
    throw new WardenError(
      ErrorCodes.STORE_CORRUPT,
      `Database ${file} is not usable: ${whyNotWritable(file) ?? (err as Error).message}`,
      { file },
      {
        cause: err,
      },
    );
  }
}

function migrate(db: Db, migrations: readonly Migration[], file: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new WardenError(
      ErrorCodes.STORE_MIGRATION,
      `Database ${file} is at schema version ${current}, newer than this wa-warden (${latest}); upgrade wa-warden`,
      { file, current, latest },
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    // BEGIN IMMEDIATE: two processes starting together must not both apply the same step.
    db.transaction(() => {
      const now = db.pragma("user_version", { simple: true }) as number;
      if (now >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

/** chmod 0600 the database and its WAL / shared-memory files (older installs made them 0644). */
function restrictModes(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(f).mode & 0o777) !== 0o600) chmodSync(f, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

/**
 * Why SQLite cannot write `file`, in words ("the file system is read-only"), or null. SQLite says
 * only "unable to open database file" / "attempt to write a readonly database", naming neither.
 */
export function whyNotWritable(file: string): string | null {
  for (const target of [file, path.dirname(file)]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      if (code === "EROFS") return `${target} is on a read-only file system (EROFS): mount it read-write`;
      if (code === "EACCES" || code === "EPERM")
        return `no write permission on ${target} (${code}) for uid ${process.getuid?.() ?? "?"}`;
      return `${target} is not writable (${code})`;
    }
  }
  return null;
}

/** Which file a database is: its device and inode when it was opened. */
export interface DatabaseIdentity {
  dev: number;
  ino: number;
}

/** The identity of the database file now (throws when it does not exist). */
export function databaseIdentity(file: string): DatabaseIdentity {
  const st = statSync(file);
  return { dev: st.dev, ino: st.ino };
}

/**
 * Null while `file` is still the database opened as `opened`; otherwise why not. A process that
 * keeps writing to a deleted warden.db loses everything silently (invariant 15), so the supervisor stops.
 */
export function databaseFileProblem(file: string, opened: DatabaseIdentity): string | null {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return `${file} was deleted while in use: what is written now would be lost`;
  if (st.dev !== opened.dev || st.ino !== opened.ino)
    return `${file} was replaced by another file while in use (inode ${opened.ino} -> ${st.ino})`;
  return null;
}
