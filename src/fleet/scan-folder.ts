/**
 * Counts one company folder. One readdir (file types come from the directory entries, no stat per
 * file), one stat of the folder and of creds.json, and a read of creds.json only when it changed.
 * Synchronous on purpose: the fleet scanner runs it in small batches between event-loop turns,
 * which is 10-30 % faster than the same calls through libuv's 4-thread pool (measured on 1,000
 * folders) and keeps the loop responsive.
 * Symlinks and non-regular entries are never followed or read: they are reported.
 */
import { type Dirent, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { describeError } from "../errors.js";
import { readRegularFileSync } from "../fs/safe-read.js";
import { ATOMIC_TMP_PREFIX, type CategoryCounts } from "./classify-file.js";
import { tallyFiles } from "./count-files.js";

/** State of a folder's creds.json. */
export type CredsState = "ok" | "missing" | "corrupt";

/** An entry that is not a regular file: reported, never followed. */
export interface IrregularEntry {
  name: string;
  kind: "symlink" | "directory" | "fifo" | "socket" | "device" | "other";
}

/** Each irregular kind in words, for messages ("a FIFO", never "a other"). */
export const ENTRY_KIND_WORDS: Readonly<Record<IrregularEntry["kind"], string>> = {
  symlink: "a symlink",
  directory: "a directory",
  fifo: "a FIFO (named pipe)",
  socket: "a socket",
  device: "a device",
  other: "not a regular file",
};

/** What one scan of a company folder found. */
export interface FolderSnapshot {
  company: string;
  scannedAt: number;
  total: number;
  byCategory: CategoryCounts;
  preKeys: number;
  maxPreKeyId: number | null;
  creds: { state: CredsState; error?: string };
  /** Newest of the folder's and creds.json's modification times (file events can move it later). */
  newestWriteAt: number | null;
  irregular: IrregularEntry[];
}

/** Remembers creds.json parse results by (mtime, size) so a reconcile does not re-read it. */
export type CredsCache = Map<string, { key: string; state: CredsState; error?: string }>;

/** Creds fields without which Baileys cannot log in. */
export const REQUIRED_CREDS_FIELDS = [
  "noiseKey",
  "signedIdentityKey",
  "signedPreKey",
  "registrationId",
] as const;

/** Scans `dir` (the folder of `company`); rejects if the folder itself cannot be read. */
export async function scanFolder(
  dir: string,
  company: string,
  now: number,
  credsCache: CredsCache = new Map(),
): Promise<FolderSnapshot> {
  return scanFolderSync(dir, company, now, credsCache);
}

/** Scans `dir` synchronously; throws if the folder itself cannot be read. */
export function scanFolderSync(
  dir: string,
  company: string,
  now: number,
  credsCache: CredsCache = new Map(),
): FolderSnapshot {
  const entries = readdirSync(dir, { withFileTypes: true });
  const names: string[] = [];
  const irregular: IrregularEntry[] = [];
  let credsIsFile = false;
  for (const entry of entries) {
    // An atomic write in flight (temp file before its rename): not a key file.
    if (entry.name.startsWith(ATOMIC_TMP_PREFIX)) continue;
    if (entry.isFile()) {
      names.push(entry.name);
      if (entry.name === "creds.json") credsIsFile = true;
    } else {
      irregular.push({
        name: entry.name,
        kind: entryKind(entry),
      });
    }
  }
  const tally = tallyFiles(names);
  const dirStat = lstatSync(dir);
  let newestWriteAt = dirStat.mtimeMs;
  let creds: FolderSnapshot["creds"];
  if (credsIsFile) {
    const credsPath = path.join(dir, "creds.json");
    const st = lstatSync(credsPath, { throwIfNoEntry: false });
    if (!st) creds = { state: "missing" };
    else {
      newestWriteAt = Math.max(newestWriteAt, st.mtimeMs);
      creds = checkCreds(credsPath, `${st.mtimeMs}:${st.size}`, credsCache);
    }
  } else if (irregular.some((e) => e.name === "creds.json")) {
    const kind = irregular.find((e) => e.name === "creds.json")?.kind ?? "other";
    creds = {
      state: "corrupt",
      error: `creds.json is ${ENTRY_KIND_WORDS[kind]}, not a regular file (not read)`,
    };
  } else {
    creds = { state: "missing" };
  }
  return {
    company,
    scannedAt: now,
    total: tally.total,
    byCategory: tally.byCategory,
    preKeys: tally.preKeys,
    maxPreKeyId: tally.maxPreKeyId,
    creds,
    newestWriteAt: Math.round(newestWriteAt),
    irregular,
  };
}

function entryKind(entry: Dirent): IrregularEntry["kind"] {
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isDirectory()) return "directory";
  if (entry.isFIFO()) return "fifo";
  if (entry.isSocket()) return "socket";
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return "device";
  return "other";
}

function checkCreds(file: string, key: string, cache: CredsCache): FolderSnapshot["creds"] {
  const hit = cache.get(file);
  if (hit && hit.key === key)
    return hit.error ? { state: hit.state, error: hit.error } : { state: hit.state };
  let result: FolderSnapshot["creds"];
  try {
    // Never blocks (a FIFO swapped in after the readdir), never follows a symlink (issue 9).
    const read = readRegularFileSync(file);
    result = read ? credsProblem(read.data) : { state: "missing" };
  } catch (err) {
    result = { state: "corrupt", error: describeError(err) };
  }
  cache.set(file, { key, ...result });
  return result;
}

function credsProblem(bytes: Buffer): FolderSnapshot["creds"] {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    return { state: "corrupt", error: `creds.json does not parse: ${describeError(err)}` };
  }
  if (data === null || typeof data !== "object" || Array.isArray(data))
    return { state: "corrupt", error: "creds.json does not hold a creds object" };
  const missing = REQUIRED_CREDS_FIELDS.filter((field) => !(field in data));
  return missing.length === 0
    ? { state: "ok" }
    : { state: "corrupt", error: `creds.json lacks ${missing.join(", ")}` };
}
