/**
 * Reading backups: stream an archive once (decrypting when sealed), hash every entry, check the
 * manifest; verifyBackup reports, extractBackup restores. Extraction verifies the whole backup
 * first, then reads it a second time into a private staging folder (checking every hash again
 * against the verified manifest) and renames that folder to the destination: the destination
 * appears complete or not at all, and a bad backup writes nothing.
 */
import { createDecipheriv, type DecipherGCM, randomBytes } from "node:crypto";
import { type FileHandle, lstat, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { BackupInvalidError, describeError, ErrorCodes, WardenError } from "../../errors.js";
import { ATOMIC_TMP_PREFIX } from "../../fleet/classify-file.js";
import { syncDir } from "../../fleet/sync-dir.js";
import { openRegularFile } from "../../fs/safe-read.js";
import {
  BACKUP_MAGIC,
  deriveKey,
  headerLength,
  openingDecipher,
  parseHeader,
  TAG_LENGTH,
} from "../../sealed-container.js";
import { type BackupManifest, checkManifest, sameFiles } from "./backup-manifest.js";
import { newArchiveParser, type OnFile } from "./backup-tar.js";

const HEADER = headerLength(BACKUP_MAGIC);

/** Outcome of verifyBackup; `problems` is empty exactly when `ok`. */
export interface VerifyResult {
  ok: boolean;
  file: string;
  /** The manifest read from the archive; null when missing, invalid or not authenticated. */
  manifest: BackupManifest | null;
  problems: string[];
}

/** What extractBackup wrote. */
export interface ExtractResult {
  dir: string;
  manifest: BackupManifest;
  files: number;
}

/** Checks a backup end to end (decryption, every hash and size, creds.json); never throws for a bad one. */
export async function verifyBackup(file: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const scan = await scanArchive(file, options.key, undefined);
  const { company } = options;
  // A backup of another company copied into this one's folder verifies byte for byte; restoring it
  // would give this company another number's identity (invariant 11).
  if (company !== undefined && scan.manifest && scan.manifest.company !== company) {
    scan.problems.push(
      `${file}: a backup of ${JSON.stringify(scan.manifest.company)}, not of ${JSON.stringify(company)} (manifest.json company)`,
    );
  }
  return { ok: scan.problems.length === 0, file, manifest: scan.manifest, problems: scan.problems };
}

/** Options of verifyBackup. */
export interface VerifyOptions {
  /** Passphrase of an encrypted backup. */
  key?: string;
  /** The company the backup must belong to (its manifest says so). */
  company?: string;
}

/** Verifies `file`, then restores its files into `destDir` (must not exist; created 0700). */
export async function extractBackup(
  file: string,
  destDir: string,
  options: { key?: string } = {},
): Promise<ExtractResult> {
  const dest = path.resolve(destDir);
  await assertAbsent(dest);
  const verified = await verifyBackup(file, options);
  if (!verified.ok || !verified.manifest) throw new BackupInvalidError(file, verified.problems);
  const manifest = verified.manifest;

  const parent = path.dirname(dest);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  // Same folder as the destination so the final rename is atomic; the prefix marks it as ours.
  const staging = path.join(
    parent,
    `${ATOMIC_TMP_PREFIX}restore-${process.pid}-${randomBytes(6).toString("hex")}`,
  );
  await mkdir(staging, { mode: 0o700 });
  try {
    const expected = new Map(manifest.files.map((f) => [f.name, f]));
    const second = await scanArchive(file, options.key, async (name, data, mtime) => {
      // Only what the first pass verified is written; anything else is reported below.
      if (expected.has(name)) await writeRestored(path.join(staging, name), data, mtime);
    });
    const problems = [...second.problems];
    if (second.manifest && !sameFiles(manifest.files, second.manifest.files)) {
      problems.push(`${file}: changed while it was being extracted`);
    }
    if (problems.length > 0) throw new BackupInvalidError(file, problems);
    await syncDir(staging);
    await assertAbsent(dest);
    await rename(staging, dest);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  await syncDir(parent);
  return { dir: dest, manifest, files: manifest.files.length };
}

interface ScanResult {
  manifest: BackupManifest | null;
  problems: string[];
}

/**
 * Streams the archive once (decrypting if needed), hashing every entry; calls `onFile` with each
 * entry's bytes when given. Problems are collected, never thrown: a bad backup is a result.
 */
async function scanArchive(
  file: string,
  key: string | undefined,
  onFile: OnFile | undefined,
): Promise<ScanResult> {
  const problems: string[] = [];
  let handle: FileHandle | null;
  try {
    // Never through a symlink, never blocked by a FIFO (invariant 2); no size limit for archives.
    handle = await openRegularFile(file, { maxBytes: Number.POSITIVE_INFINITY });
  } catch (err) {
    return { manifest: null, problems: [`${file}: cannot be opened: ${describeError(err)}`] };
  }
  if (!handle) return { manifest: null, problems: [`${file}: cannot be opened: it does not exist`] };
  try {
    const st = await handle.stat();
    const head = Buffer.alloc(Math.min(HEADER, st.size));
    await handle.read(head, 0, head.length, 0);
    const encrypted =
      head.length >= BACKUP_MAGIC.length && head.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC);
    if (!encrypted && file.endsWith(".enc")) {
      return { manifest: null, problems: [`${file}: not a wa-warden encrypted backup (bad magic "WWBK1")`] };
    }

    let decipher: DecipherGCM | null = null;
    let start = 0;
    let end = st.size; // exclusive
    if (encrypted) {
      if (key === undefined) {
        return { manifest: null, problems: [`${file}: encrypted backup, a key is needed to read it`] };
      }
      if (st.size < HEADER + TAG_LENGTH) {
        return {
          manifest: null,
          problems: [`${file}: truncated (${st.size} bytes, shorter than an empty backup)`],
        };
      }
      const { salt, iv } = parseHeader(BACKUP_MAGIC, head) as { salt: Buffer; iv: Buffer };
      const tag = Buffer.alloc(TAG_LENGTH);
      await handle.read(tag, 0, TAG_LENGTH, st.size - TAG_LENGTH);
      const derived = await deriveKey(key, salt);
      start = HEADER;
      end = st.size - TAG_LENGTH;
      // GCM is CTR underneath: the first two plaintext bytes must be gzip's magic. A mismatch
      // means a wrong key (or a damaged salt/iv), which deserves its own message.
      const firstBytes = Buffer.alloc(Math.min(2, end - start));
      await handle.read(firstBytes, 0, firstBytes.length, start);
      const probe = createDecipheriv("aes-256-gcm", derived, iv).update(firstBytes);
      if (probe.length < 2 || probe[0] !== 0x1f || probe[1] !== 0x8b) {
        return {
          manifest: null,
          problems: [`${file}: cannot be decrypted: wrong key (or the start of the file is damaged)`],
        };
      }
      decipher = openingDecipher(derived, head, iv, tag);
    }

    const parsed = await newArchiveParser(onFile);
    const source =
      end > start ? handle.createReadStream({ start, end: end - 1, autoClose: false }) : Readable.from([]);
    try {
      if (decipher) await pipeline(source, decipher, createGunzip(), parsed.consume);
      else await pipeline(source, createGunzip(), parsed.consume);
    } catch (err) {
      const message = (err as Error).message;
      // Without authentication nothing read is trustworthy: one problem, no manifest.
      if (encrypted) {
        return {
          manifest: null,
          problems: [`${file}: authentication failed, the file was modified or damaged (${message})`],
        };
      }
      return {
        manifest: null,
        problems: [`${file}: not a readable .tar.gz: ${message}`, ...parsed.problems],
      };
    }
    problems.push(...parsed.problems.map((p) => (p.startsWith("tar:") ? `${file}: ${p}` : p)));
    const manifest = checkManifest(file, parsed, problems);
    return { manifest, problems };
  } finally {
    await handle.close();
  }
}

/** Writes one restored file (0600, fsync'd, original mtime). */
async function writeRestored(file: string, data: Buffer, mtime: Date | undefined): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.writeFile(data);
    if (mtime) await handle.utimes(mtime, mtime);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function assertAbsent(dest: string): Promise<void> {
  if (await lstat(dest).catch(() => null)) {
    throw new WardenError(
      ErrorCodes.USAGE,
      `${dest} already exists: extract into a folder that does not exist yet`,
      { dir: dest },
    );
  }
}
