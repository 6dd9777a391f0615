/**
 * Opens a company's auth state from the store its `warden-auth.json` names: the folder (atomic
 * multi-file store) or its database. Both give Baileys the same AuthenticationState; a database
 * that cannot be opened or read is a coded error (the session stops the company), never fresh creds.
 */
import type { AuthenticationState } from "baileys";
import type { AuthRows } from "../auth-store/auth-rows.js";
import { openDatabaseAuthState } from "../auth-store/database-auth-state.js";
import { requirePgUrl } from "../auth-store/postgres-db.js";
import { openPostgresRows } from "../auth-store/postgres-rows.js";
import type { AuthKey } from "../auth-store/row-cipher.js";
import { openSqliteRows } from "../auth-store/sqlite-rows.js";
import { readStoreChoice } from "../auth-store/store-choice.js";
import type { Clock } from "../clock.js";
import { ErrorCodes, WardenError } from "../errors.js";
import { authDatabaseFile } from "../home-layout.js";
import type { Logger } from "../logger.js";
import { useAtomicMultiFileAuthState } from "./auth-state.js";

/** What opening a database store needs: WARDEN_HOME (where auth/ is) and the stretched auth key. */
export interface AuthStoreContext {
  home: string;
  key: AuthKey | undefined;
  clock: Pick<Clock, "now">;
  /** WARDEN_PG_URL, for companies on the postgres store. */
  pgUrl?: string | undefined;
}

/** A company's open auth state, whichever store holds it. */
export interface CompanyAuthState {
  state: AuthenticationState;
  saveCreds(): Promise<void>;
  /** Waits for every pending write. */
  flush(): Promise<void>;
  /** Flushes and lets go of the store (closes a database connection). */
  close(): Promise<void>;
}

/** What the driver passes when it opens a socket's auth state. */
export interface OpenAuthOptions {
  company: string;
  dir: string;
  logger: Logger;
  onWrite?: (file: string, data: Buffer) => void | Promise<void>;
  /** A database write failed: the session stops the company. */
  onFailure?: (err: unknown) => void;
  /** Needed for a database store; a company whose store is a database fails without it. */
  store?: AuthStoreContext;
}

/** Opens the auth state of `dir` from the store its warden-auth.json names ("files" when absent). */
export async function openCompanyAuthState(options: OpenAuthOptions): Promise<CompanyAuthState> {
  const { company, dir, logger } = options;
  const kind = await readStoreChoice(dir);
  if (kind === "files") {
    // Never creates the company folder: a removed one stays removed (the session stops instead).
    const auth = await useAtomicMultiFileAuthState(dir, logger, { onWrite: options.onWrite, create: false });
    return { ...auth, close: auth.flush };
  }
  const store = options.store;
  if (!store) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `${company} keeps its auth state in ${kind} but this process was given no auth store context`,
      { company },
    );
  }
  const rows: AuthRows =
    kind === "postgres"
      ? await openPostgresRows(requirePgUrl(store.pgUrl, company), {
          company,
          ...(store.key ? { key: store.key } : {}),
        })
      : openSqliteRows(authDatabaseFile(store.home, company), { company, key: store.key });
  try {
    return await openDatabaseAuthState(rows, {
      clock: store.clock,
      logger,
      ...(options.onWrite ? { onWrite: options.onWrite } : {}),
      ...(options.onFailure ? { onFailure: options.onFailure } : {}),
    });
  } catch (err) {
    await rows.close();
    throw err;
  }
}

/** True for the errors of a store that must stop the company (never retried into a new identity). */
export function isAuthStoreFailure(err: unknown): boolean {
  if (!(err instanceof WardenError)) return false;
  return (
    err.code === ErrorCodes.AUTH_STORE_CHOICE ||
    err.code === ErrorCodes.AUTH_STORE_KEY ||
    err.code === ErrorCodes.AUTH_STORE_TAMPERED ||
    err.code === ErrorCodes.AUTH_STORE_UNAVAILABLE ||
    err.code === ErrorCodes.CREDS_UNREADABLE
  );
}
