/**
 * Opens the shared SQLite database (WAL, busy_timeout, foreign keys), checks its integrity and
 * applies pending migrations. The supervisor, the workers and the CLI all open the same file.
 */
import { mkdirSync } from "node:fs";
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
    db = new Database(file);
  } catch (err) {
    throw new WardenError(
      ErrorCodes.STORE_CORRUPT,
      `Cannot open database ${file}: ${(err as Error).message}`,
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
    return db;
  } catch (err) {
    db.close();
    if (err instanceof WardenError) throw err;
    throw new WardenError(
      ErrorCodes.STORE_CORRUPT,
      `Database ${file} is not usable: ${(err as Error).message}`,
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
