/**
 * How the actions (backup, cleanup, restore, migrate, new pairing) reach a company's database
 * store, whichever it is: WARDEN_HOME (where auth/ is), the passphrase of its rows
 * (WARDEN_AUTH_KEY, else WARDEN_BACKUP_KEY) and, for `postgres`, the URL (WARDEN_PG_URL). Opening,
 * checking, removing and setting aside a store go through here, so sqlite and postgres share every
 * action's code path.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { ErrorCodes, WardenError } from "../errors.js";
import { readRegularFile } from "../fs/safe-read.js";
import { authDatabaseFile } from "../home-layout.js";
import type { AuthRows } from "./auth-rows.js";
import { PostgresDb, requirePgUrl } from "./postgres-db.js";
import {
  movePostgresCompany,
  openPostgresRows,
  postgresAsideName,
  postgresCompanyExists,
  removePostgresCompany,
} from "./postgres-rows.js";
import { AuthKey } from "./row-cipher.js";
import { moveSqliteDatabase, openSqliteRows } from "./sqlite-rows.js";
import type { StoreKind } from "./store-choice.js";

/** Where database stores live and the passphrase of their rows. */
export interface AuthStoreAccess {
  home: string;
  passphrase: string | undefined;
  /** WARDEN_PG_URL: needed for companies on the postgres store. */
  pgUrl?: string | undefined;
}

/** A database store kind. */
export type DatabaseKind = Exclude<StoreKind, "files">;

/**
 * The access an action uses: the one it was given, else WARDEN_HOME as the parent of `backupsRoot`
 * (home-layout.ts puts backups/ directly under it) and the backup key as the rows' passphrase.
 */
export function authAccessOf(
  given: AuthStoreAccess | undefined,
  backupsRoot: string,
  backupKey: string | undefined,
): AuthStoreAccess {
  return given ?? { home: path.dirname(backupsRoot), passphrase: backupKey };
}

/** Opens a company's database store with its key (derived here: ~100 ms). */
export async function openCompanyRows(
  access: AuthStoreAccess,
  company: string,
  kind: DatabaseKind,
  options: { create?: boolean } = {},
): Promise<AuthRows> {
  if (access.passphrase === undefined) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_KEY,
      `${company}'s keys are in an encrypted ${kind} store: set WARDEN_AUTH_KEY (or WARDEN_BACKUP_KEY)`,
      { company },
    );
  }
  const key = await AuthKey.derive(access.passphrase);
  const create = options.create === true;
  if (kind === "postgres")
    return openPostgresRows(requirePgUrl(access.pgUrl, company), { company, key, create });
  return openSqliteRows(authDatabaseFile(access.home, company), { company, key, create });
}

/** Runs `fn` on a handle of the shared pool, released after. */
async function withPostgres<T>(access: AuthStoreAccess, company: string, fn: (db: PostgresDb) => Promise<T>) {
  const db = await PostgresDb.acquire(requirePgUrl(access.pgUrl, company));
  try {
    return await fn(db);
  } finally {
    await db.release();
  }
}

/** Where a company's store is, for messages: its file, or its rows in the shared database. */
export function storeLocation(access: AuthStoreAccess, company: string, kind: DatabaseKind): string {
  return kind === "postgres"
    ? `the postgres store (company ${company})`
    : authDatabaseFile(access.home, company);
}

/** True when the company already has a store of this kind (a file, or a record in postgres). */
export async function companyStoreExists(
  access: AuthStoreAccess,
  company: string,
  kind: DatabaseKind,
): Promise<boolean> {
  if (kind === "postgres") return withPostgres(access, company, (db) => postgresCompanyExists(db, company));
  return (await readRegularFile(authDatabaseFile(access.home, company)).catch(() => "unreadable")) !== null;
}

/** Removes a company's store of this kind entirely (a migration rolled back before its switch). */
export async function removeCompanyStore(access: AuthStoreAccess, company: string, kind: DatabaseKind) {
  if (kind === "postgres") return withPostgres(access, company, (db) => removePostgresCompany(db, company));
  const file = authDatabaseFile(access.home, company);
  for (const suffix of ["", "-wal", "-shm"]) await rm(`${file}${suffix}`, { force: true });
}

/**
 * Sets a closed store aside under `asideBase` (a path in WARDEN_HOME/replaced/): the sqlite file
 * moves to `<asideBase>.sqlite`, postgres rows are renamed to the company `<company>@<basename>`.
 * Returns where it went.
 */
export async function moveCompanyStoreAside(
  access: AuthStoreAccess,
  company: string,
  kind: DatabaseKind,
  asideBase: string,
): Promise<string> {
  if (kind === "postgres") {
    const aside = postgresAsideName(company, asideBase);
    return withPostgres(access, company, async (db) => {
      await movePostgresCompany(db, company, aside);
      return `${db.where} (company ${aside})`;
    });
  }
  moveSqliteDatabase(authDatabaseFile(access.home, company), `${asideBase}.sqlite`);
  return `${asideBase}.sqlite`;
}

/** Undoes moveCompanyStoreAside (the step after it failed): the store returns under its company. */
export async function putCompanyStoreBack(
  access: AuthStoreAccess,
  company: string,
  kind: DatabaseKind,
  asideBase: string,
): Promise<void> {
  if (kind === "postgres") {
    const aside = postgresAsideName(company, asideBase);
    await withPostgres(access, company, (db) => movePostgresCompany(db, aside, company));
    return;
  }
  moveSqliteDatabase(`${asideBase}.sqlite`, authDatabaseFile(access.home, company));
}
