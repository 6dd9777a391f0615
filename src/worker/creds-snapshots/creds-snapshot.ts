/**
 * Creds snapshots, taking and sealing them: every version of creds.json and of the
 * app-state-sync-key files goes to SQLite (store.credsSnapshots, the newest `backups.credsSnapshots`
 * per file), so a folder that lost its creds.json gets its identity back without a QR scan (issue:
 * creds snapshots). Writing a missing creds.json back is restore-missing-creds.ts; whether the
 * stored ones are encrypted is creds-snapshot-encryption.ts.
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
import { readdir } from "node:fs/promises";
import path from "node:path";
import {
  describeError,
  ErrorCodes,
  FileRefusedError,
  SnapshotUnsealError,
  WardenError,
} from "../../errors.js";
import { isSnapshotFile } from "../../fleet/classify-file.js";
import { readRegularFile as readSafely } from "../../fs/safe-read.js";
import type { Logger } from "../../logger.js";
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
} from "../../sealed-container.js";
import type { CredsSnapshotRow } from "../../store/creds-snapshots.js";
import type { Store } from "../../store/store.js";

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
export function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
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
