/**
 * What every database store offers, keyed by key file names (src/auth-store/key-names.ts): the
 * worker's auth state, the scanner, backups, cleanup, restore and migration all go through it.
 * Asynchronous so a networked store fits the same shape. Fail closed: a read that fails throws a
 * coded error; only a row that is not there is missing.
 */
import type { CredsFacts } from "../store/snapshot-types.js";

/** The database stores (the folder store, "files", is the company folder itself). */
export type DatabaseStoreKind = "sqlite" | "postgres";

/** One row without its value: what the scanner and the planner need. */
export interface AuthRowInfo {
  /** Key file name (`creds.json`, `session-<id>.json`...). */
  name: string;
  /** Bytes of the plaintext value (a key file's size). */
  size: number;
  createdAt: number;
  updatedAt: number;
  lastReadAt: number;
}

/** A row with its decrypted value (the bytes a key file holds). */
export interface AuthRow extends AuthRowInfo {
  data: Buffer;
}

/** A value to write; `at` dates it (a migration carries a file's mtime), default: the write's `now`. */
export interface AuthPut {
  name: string;
  data: Buffer;
  at?: number;
}

/** One company's rows in a database store. */
export interface AuthRows {
  readonly kind: DatabaseStoreKind;
  /** Where it lives, for messages (a file path). */
  readonly location: string;
  /** Every row without values. */
  list(): Promise<AuthRowInfo[]>;
  /** Decrypted values of the named rows (absent names are missing rows); `touchAt` records the read. */
  read(names: readonly string[], touchAt?: number): Promise<Map<string, Buffer>>;
  /** Every row with its value. */
  readAll(): Promise<AuthRow[]>;
  /** Puts and deletes in ONE transaction; creds.json is never deleted. */
  write(puts: readonly AuthPut[], deletes: readonly string[], now: number): Promise<void>;
  /** Replaces every row by `rows` in one transaction (a restore). */
  replaceAll(rows: readonly AuthPut[], now: number): Promise<void>;
  /** What the creds row says (kept in plain beside it, so counting needs no key). */
  credsFacts(): Promise<CredsFacts & { present: boolean }>;
  /** A consistent copy of every row kept aside under `asideBase` (before a restore); returns where it went. */
  keepCopy(asideBase: string): Promise<string>;
  /** Closes the connection; idempotent. */
  close(): Promise<void>;
}

/** The age the cleanup rules judge a row by: its last write or read, whichever is later. */
export function rowAge(row: Pick<AuthRowInfo, "updatedAt" | "lastReadAt">): number {
  return Math.max(row.updatedAt, row.lastReadAt);
}
