/**
 * Creds snapshots: every version of creds.json and of the app-state-sync-key files goes to SQLite
 * (store.credsSnapshots, the newest `backups.credsSnapshots` per file), so a folder that lost its
 * creds.json gets its identity back without a QR scan (issue: creds snapshots).
 *
 * Sealed (`WARDEN_BACKUP_KEY` set), a stored blob is
 *   "WWSN1" (5 bytes) | salt (16) | iv (12) | AES-256-GCM ciphertext | tag (16)
 * with the key scrypt(passphrase, salt, 32, N=2^15 r=8 p=1) and the 33 header bytes as GCM
 * additional data: the container of sealed-container.ts, shared with backups ("WWBK1").
 * scrypt costs ~100 ms and creds.json changes many times a minute on a busy number, so a sealer
 * draws one salt when it is created and derives its key once; the blob carries that salt, and
 * unsealing derives once per salt (cached).
 *
 * Which files: creds.json (the identity) and app-state-sync-key-*.json (the keys the phone shared
 * for app-state sync, sent once). app-state-sync-version-*.json is NOT snapshotted: it changes on
 * every sync and Baileys rebuilds it from the server (a full resync) when it is missing.
 */
import { randomBytes } from "node:crypto";
import { link, lstat, open, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { describeError, ErrorCodes, FileRefusedError, SnapshotUnsealError, WardenError } from "../errors.js";
import { ATOMIC_TMP_PREFIX, classifyFile } from "../fleet/classify-file.js";
import { syncDir } from "../fleet/sync-dir.js";
import { readRegularFile as readSafely } from "../fs/safe-read.js";
import type { Logger } from "../logger.js";
import type { CredsSnapshotRow } from "../store/creds-snapshots.js";
import type { Store } from "../store/store.js";
import {
  deriveKey,
  headerLength,
  newSalt,
  openBuffer,
  parseHeader,
  SNAPSHOT_MAGIC,
  sealBuffer,
  sha256,
  TAG_LENGTH,
} from "./sealed-container.js";

export { SnapshotUnsealError };

/** The name of the identity file, the one a restore is about. */
export const CREDS_FILE = "creds.json";

// Random 96-bit IVs are safe for 2^32 messages per key (NIST SP 800-38D); a fresh salt (a fresh
// key) long before that keeps a worker that runs for years far from the bound.
const SEALS_PER_SALT = 2 ** 24;
// Salts seen when unsealing: one per sealer that wrote the kept versions (one per worker start).
const UNSEAL_CACHE_SIZE = 32;

/** What a sealer stores for one snapshot. */
export interface SealedSnapshot {
  data: Buffer;
  encrypted: boolean;
}

/** The fields of a stored snapshot that unsealing needs (a CredsSnapshotRow fits). */
export type SnapshotToUnseal = Pick<
  CredsSnapshotRow,
  "id" | "company" | "file" | "sha256" | "data" | "encrypted"
>;

/** Turns snapshot bytes into what is stored (encrypted when a key is set) and back. */
export interface SnapshotSealer {
  /** True when seal() encrypts. */
  readonly encrypted: boolean;
  /** The bytes to store for `bytes`: "WWSN1" blob with a key, `bytes` as-is without. */
  seal(bytes: Buffer): Promise<SealedSnapshot>;
  /** The original bytes of a stored snapshot; throws SnapshotUnsealError when that is impossible. */
  unseal(row: SnapshotToUnseal): Promise<Buffer>;
}

/** Creates a sealer: AES-256-GCM with a key derived from `key` when given, plain bytes otherwise. */
export function createSnapshotSealer(key?: string): SnapshotSealer {
  if (key !== undefined && key.length === 0)
    throw new WardenError(ErrorCodes.USAGE, "The snapshot key (WARDEN_BACKUP_KEY) is empty");
  const derived = new Map<string, Promise<Buffer>>();
  const derive = (salt: Buffer): Promise<Buffer> => {
    const id = salt.toString("hex");
    let found = derived.get(id);
    if (!found) {
      if (derived.size >= UNSEAL_CACHE_SIZE) derived.delete(derived.keys().next().value as string);
      found = deriveKey(key as string, salt);
      derived.set(id, found);
      // A failed derivation (out of memory...) must not stay cached.
      found.catch(() => derived.delete(id));
    }
    return found;
  };
  let current = { salt: newSalt(), uses: 0 };

  return {
    encrypted: key !== undefined,
    async seal(bytes) {
      if (key === undefined) return { data: bytes, encrypted: false };
      if (++current.uses > SEALS_PER_SALT) current = { salt: newSalt(), uses: 1 };
      const { salt } = current;
      return { data: sealBuffer(SNAPSHOT_MAGIC, await derive(salt), salt, bytes), encrypted: true };
    },
    async unseal(row) {
      let plain: Buffer;
      if (!row.encrypted) {
        plain = row.data;
      } else {
        if (key === undefined) {
          throw new SnapshotUnsealError(row, "it is encrypted and WARDEN_BACKUP_KEY is not set");
        }
        const blob = row.data;
        const header = parseHeader(SNAPSHOT_MAGIC, blob);
        if (!header || blob.length < headerLength(SNAPSHOT_MAGIC) + TAG_LENGTH) {
          throw new SnapshotUnsealError(row, 'not a wa-warden sealed snapshot (bad "WWSN1" header)');
        }
        const derivedKey = await derive(header.salt);
        try {
          plain = openBuffer(SNAPSHOT_MAGIC, derivedKey, blob);
        } catch (err) {
          throw new SnapshotUnsealError(
            row,
            "wrong WARDEN_BACKUP_KEY, or the stored bytes were altered (authentication failed)",
            { cause: err },
          );
        }
      }
      if (sha256(plain) !== row.sha256) {
        throw new SnapshotUnsealError(row, "its bytes do not match the recorded sha256 (altered)");
      }
      return plain;
    },
  };
}

/** True for the files kept as snapshots: creds.json and app-state-sync-key-*.json. */
export function isSnapshotFile(name: string): boolean {
  const category = classifyFile(name);
  return category === "creds" || category === "app-state-sync-key";
}

/**
 * Stores one version of `file` (its plaintext sha256; store.put skips it when equal to the newest)
 * and keeps the newest `keep`. Returns true when a row was added. Skipped: files that are not
 * snapshot files, bytes that are not a JSON object, and a creds.json of a device that is not paired
 * (worthless to restore: a QR is needed anyway, and a QR loop rewriting it would push the paired
 * versions out of the `keep` window).
 */
export async function snapshotFile(
  store: Store,
  sealer: SnapshotSealer,
  company: string,
  file: string,
  bytes: Buffer,
  keep: number,
  now: number,
): Promise<boolean> {
  if (!isSnapshotFile(file)) return false;
  const parsed = parseObject(bytes);
  if (!parsed) return false;
  if (file === CREDS_FILE && !isPaired(parsed)) return false;
  const hash = sha256(bytes);
  // The common case (nothing changed since the last version) costs no encryption.
  if (store.credsSnapshots.latest(company, file)?.sha256 === hash) return false;
  const sealed = await sealer.seal(bytes);
  return store.credsSnapshots.put({ company, file, sha256: hash, ...sealed }, keep, now);
}

/**
 * Snapshots creds.json and the app-state-sync-key files as they are on disk now (regular files
 * only, never through a symlink), so a folder has snapshots before its first change. Returns the
 * names of the files that got a new version.
 */
export async function snapshotFolder(
  store: Store,
  sealer: SnapshotSealer,
  company: string,
  dir: string,
  keep: number,
  now: number,
): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile() && isSnapshotFile(e.name))
    .map((e) => e.name)
    .sort();
  const added: string[] = [];
  for (const name of names) {
    const bytes = await readRegularFile(path.join(dir, name));
    if (bytes && (await snapshotFile(store, sealer, company, name, bytes, keep, now))) added.push(name);
  }
  return added;
}

/** Options of createSnapshotRecorder. */
export interface SnapshotRecorderOptions {
  store: Store;
  sealer: SnapshotSealer;
  company: string;
  keep: number;
  now(): number;
  logger: Logger;
}

/** Snapshots one company's writes in the order they happened; failures are logged, never thrown. */
export interface SnapshotRecorder {
  /** Snapshots the bytes just written to `file` (the auth state's onWrite); resolves when done. */
  record(file: string, data: Buffer): Promise<void>;
}

/** Creates the recorder the worker hands to a company's auth state. */
export function createSnapshotRecorder(options: SnapshotRecorderOptions): SnapshotRecorder {
  const { store, sealer, company, keep, logger } = options;
  // One chain: a later version of a file is never stored before an earlier one (the first seal
  // waits ~100 ms for scrypt, and the newest row is the one a restore uses).
  let tail: Promise<void> = Promise.resolve();
  return {
    record(file, data) {
      tail = tail.then(async () => {
        try {
          await snapshotFile(store, sealer, company, file, data, keep, options.now());
        } catch (err) {
          logger.error({ err, file }, `Snapshot of ${company}/${file} failed: ${describeError(err)}`);
        }
      });
      return tail;
    },
  };
}

/** Inputs of restoreMissingCreds. */
export interface RestoreCredsOptions {
  store: Store;
  sealer: SnapshotSealer;
  company: string;
  dir: string;
  /** Recorded in the audit row, e.g. "worker:host/0/123". */
  actor: string;
  now: number;
}

/** What restoreMissingCreds did. */
export type RestoreCredsOutcome =
  /** creds.json is there (readable or not): nothing is ever written over it. */
  | { status: "present" }
  /** No creds.json and no snapshot of it: a new company, pairing needed as before. */
  | { status: "no-snapshot" }
  /** Written from the snapshot taken at `snapshotAt`, with the missing app-state keys. */
  | { status: "restored"; files: string[]; snapshotAt: number; problems: string[] }
  /** Snapshots exist but none could be restored; `problems` says why (audit row ok=false). */
  | { status: "failed"; problems: string[] };

/**
 * When `dir` has no creds.json, writes the newest snapshot that opens (newest first: a version
 * sealed with another key is skipped) and every missing app-state-sync-key file, each atomically and
 * without ever replacing an existing file, then records an audit row "restore-creds". Never throws
 * for a failed restore: it returns "failed" and records the row with ok=false.
 */
export async function restoreMissingCreds(options: RestoreCredsOptions): Promise<RestoreCredsOutcome> {
  const { store, sealer, company, dir, actor, now } = options;
  if (await exists(path.join(dir, CREDS_FILE))) return { status: "present" };
  const versions = store.credsSnapshots.versions(company, CREDS_FILE);
  if (versions.length === 0) return { status: "no-snapshot" };

  const problems: string[] = [];
  const audit = (ok: boolean, result: string, detail: Record<string, unknown>) =>
    store.audit.add({ at: now, actor, company, action: "restore-creds", ok, result, detail });

  let chosen: { row: CredsSnapshotRow; bytes: Buffer } | undefined;
  for (const row of versions) {
    const bytes = await openVersion(sealer, row, problems);
    if (bytes) {
      chosen = { row, bytes };
      break;
    }
  }
  if (!chosen) {
    audit(
      false,
      `creds.json is missing and none of its ${versions.length} snapshot(s) could be opened: ${problems[0]}`,
      { files: [], problems },
    );
    return { status: "failed", problems };
  }

  const files: string[] = [];
  try {
    if (!(await writeNewFile(dir, CREDS_FILE, chosen.bytes))) return { status: "present" };
    files.push(CREDS_FILE);
    await syncDir(dir);
  } catch (err) {
    problems.push(`writing creds.json failed: ${describeError(err)}`);
    audit(false, `creds.json is missing and writing its snapshot failed: ${describeError(err)}`, {
      files: [],
      problems,
    });
    return { status: "failed", problems };
  }

  for (const file of store.credsSnapshots.files(company)) {
    // Names come from the database: only plain snapshot file names may reach a path.
    if (classifyFile(file) !== "app-state-sync-key" || path.basename(file) !== file) continue;
    try {
      if (await exists(path.join(dir, file))) continue;
      let bytes: Buffer | undefined;
      for (const row of store.credsSnapshots.versions(company, file)) {
        bytes = await openVersion(sealer, row, problems);
        if (bytes) break;
      }
      if (bytes && (await writeNewFile(dir, file, bytes))) files.push(file);
    } catch (err) {
      problems.push(`writing ${file} failed: ${describeError(err)}`);
    }
  }
  if (files.length > 1) {
    await syncDir(dir).catch((err) => problems.push(`fsync of the folder failed: ${describeError(err)}`));
  }

  const keys = files.length - 1;
  const at = new Date(chosen.row.at).toISOString();
  audit(
    true,
    `Restored ${files.join(", ")} from the creds snapshot of ${at}` +
      (keys > 0 ? ` (${keys} app-state key file(s) were missing too)` : "") +
      (problems.length > 0 ? `; ${problems.length} problem(s): ${problems.join("; ")}` : ""),
    { files, snapshotAt: chosen.row.at, problems },
  );
  return { status: "restored", files, snapshotAt: chosen.row.at, problems };
}

/** The plaintext of a stored version when it opens and is a JSON object; else a problem is noted. */
async function openVersion(
  sealer: SnapshotSealer,
  row: CredsSnapshotRow,
  problems: string[],
): Promise<Buffer | undefined> {
  try {
    const bytes = await sealer.unseal(row);
    if (parseObject(bytes)) return bytes;
    problems.push(`Snapshot #${row.id} of ${row.company}/${row.file} does not hold a JSON object`);
  } catch (err) {
    problems.push(describeError(err));
  }
  return undefined;
}

/**
 * Writes `data` as `dir/name` (0600): temp file, fsync, then link() to the name, which fails with
 * EEXIST instead of replacing a file that appeared meanwhile (rename would replace it). Returns
 * false when the name exists. The caller fsyncs the folder.
 */
async function writeNewFile(dir: string, name: string, data: Buffer): Promise<boolean> {
  const target = path.join(dir, name);
  const tmp = path.join(dir, `${ATOMIC_TMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
  const handle = await open(tmp, "wx", 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      // File systems without hard links: check, then rename (a narrow race, only on those; the
      // worker holds the company's lease, so no other writer is expected).
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
      if (await exists(target)) return false;
      await rename(tmp, target);
    }
    return true;
  } finally {
    await unlink(tmp).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

/** True when `file` exists as anything (a dangling symlink too): lstat, never followed. */
async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** A regular file's bytes (src/fs/safe-read.ts); null when gone or not a regular file (never followed). */
async function readRegularFile(file: string): Promise<Buffer | null> {
  try {
    return (await readSafely(file))?.data ?? null;
  } catch (err) {
    if (err instanceof FileRefusedError) return null;
    throw err;
  }
}

/** The JSON object `bytes` hold, or undefined (not JSON, or JSON but not an object). */
function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    // Not JSON: a torn or foreign file is not a version worth keeping.
    return undefined;
  }
}

/** The rule of read-creds.ts: a paired device has `me` or `registered: true`. */
function isPaired(creds: Record<string, unknown>): boolean {
  return creds.registered === true || (creds.me !== undefined && creds.me !== null);
}

/** Whether creds snapshots are protected: for start-up warnings and `warden doctor`. */
export interface CredsSnapshotEncryption {
  /** WARDEN_BACKUP_KEY is set: new snapshots are sealed. */
  keySet: boolean;
  /** Stored snapshots in plain JSON (written without a key, or before one was set). */
  plainRows: number;
  /** What to tell the operator, or null when every snapshot is and will be sealed. */
  warning: string | null;
}

/**
 * Are creds snapshots encrypted? Without WARDEN_BACKUP_KEY each company's identity sits in plain
 * JSON in warden.db (issue 9, item 12): whoever reads the database can take over the numbers.
 */
export function credsSnapshotsEncrypted(store: Store, keySet: boolean): CredsSnapshotEncryption {
  const plainRows = store.credsSnapshots.plainCount();
  let warning: string | null = null;
  if (!keySet) {
    warning = `WARDEN_BACKUP_KEY is not set: creds snapshots (each company's WhatsApp identity) are stored unencrypted in warden.db (${plainRows} now); set it to seal them`;
  } else if (plainRows > 0) {
    warning = `${plainRows} creds snapshot(s) in warden.db were stored before WARDEN_BACKUP_KEY was set and are unencrypted; they are replaced as the files change (or retire them with a new pairing)`;
  }
  return { keySet, plainRows, warning };
}
