/**
 * How the actions (backup, cleanup, restore, migrate) reach a company's database store: WARDEN_HOME
 * (where auth/ is) and the passphrase of its rows (WARDEN_AUTH_KEY, else WARDEN_BACKUP_KEY).
 */
import path from "node:path";
import { ErrorCodes, WardenError } from "../errors.js";
import { authDatabaseFile } from "../home-layout.js";
import { AuthKey } from "./row-cipher.js";
import { openSqliteRows, type SqliteRows } from "./sqlite-rows.js";
import type { StoreKind } from "./store-choice.js";

/** Where database stores live and the passphrase of their rows. */
export interface AuthStoreAccess {
  home: string;
  passphrase: string | undefined;
}

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
  kind: Exclude<StoreKind, "files">,
  options: { create?: boolean } = {},
): Promise<SqliteRows> {
  if (access.passphrase === undefined) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_KEY,
      `${company}'s keys are in an encrypted ${kind} store: set WARDEN_AUTH_KEY (or WARDEN_BACKUP_KEY)`,
      { company },
    );
  }
  const key = await AuthKey.derive(access.passphrase);
  return openSqliteRows(authDatabaseFile(access.home, company), {
    company,
    key,
    create: options.create === true,
  });
}
