/**
 * Counts one company folder. One readdir (file types come from the directory entries, no stat per
 * file), one stat of the folder and of creds.json, and a read of creds.json only when it changed.
 * Synchronous on purpose: the fleet scanner runs it in small batches between event-loop turns,
 * which is 10-30 % faster than the same calls through libuv's 4-thread pool (measured on 1,000
 * folders) and keeps the loop responsive.
 * Symlinks and non-regular entries are never followed or read: they are reported.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { CredsState, FolderSnapshot, IrregularEntry } from "../store/snapshot-types.js";
import { ATOMIC_TMP_PREFIX } from "./classify-file.js";
import { tallyFiles } from "./count-files.js";

export type { CredsState, FolderSnapshot, IrregularEntry } from "../store/snapshot-types.js";

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
        kind: entry.isSymbolicLink() ? "symlink" : entry.isDirectory() ? "directory" : "other",
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
    creds = { state: "corrupt", error: "creds.json is not a regular file (not followed)" };
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

function checkCreds(file: string, key: string, cache: CredsCache): FolderSnapshot["creds"] {
  const hit = cache.get(file);
  if (hit && hit.key === key)
    return hit.error ? { state: hit.state, error: hit.error } : { state: hit.state };
  let result: FolderSnapshot["creds"];
  try {
    const data = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown> | null;
    const missing = REQUIRED_CREDS_FIELDS.filter(
      (field) => data === null || typeof data !== "object" || !(field in data),
    );
    result =
      missing.length === 0
        ? { state: "ok" }
        : { state: "corrupt", error: `creds.json lacks ${missing.join(", ")}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    result =
      code === "ENOENT"
        ? { state: "missing" }
        : { state: "corrupt", error: `creds.json does not parse: ${(err as Error).message}` };
  }
  cache.set(file, { key, ...result });
  return result;
}
