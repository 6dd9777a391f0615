/**
 * The backups folder of each company: names (`<YYYYMMDDTHHMMSSmmmZ>-<reason>.tar.gz[.enc]`), the
 * list newest first, retention (keep the newest N), and temp archives left by dead processes.
 */
import { lstat, readdir, unlink } from "node:fs/promises";
import path from "node:path";
import { assertCompanyId } from "../../config/company-id.js";
import { ErrorCodes, WardenError } from "../../errors.js";
import { ATOMIC_TMP_PREFIX } from "../../fleet/classify-file.js";
import { syncDir } from "../../fleet/sync-dir.js";
import { isProcessAlive } from "../../process-alive.js";

/** Backups kept per company when `keep` is not given. */
export const DEFAULT_BACKUP_KEEP = 5;

const BACKUP_NAME_RE = /^(\d{8}T\d{9}Z)-([a-z0-9-]+)\.tar\.gz(\.enc)?$/;

/** A backup file on disk, as its name and size describe it. */
export interface BackupInfo {
  name: string;
  path: string;
  /** ISO 8601, from the timestamp in the name. */
  createdAt: string;
  reason: string;
  size: number;
  encrypted: boolean;
}

/** The backups of `company` under `backupsRoot`, newest first; [] when there are none. */
export async function listBackups(backupsRoot: string, company: string): Promise<BackupInfo[]> {
  assertCompanyId(company);
  return listIn(path.join(backupsRoot, company));
}

/** "20261123T101500123Z" for 2026-11-23T10:15:00.123Z: sortable and safe in any file system. */
export function formatTimestamp(now: number): string {
  const date = new Date(now);
  if (!Number.isFinite(now) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) {
    throw new WardenError(ErrorCodes.USAGE, `Invalid backup time ${now}`, { now });
  }
  return date.toISOString().replace(/[-:.]/g, "");
}

/** Deletes the company's backups beyond the newest `keep`, never `justMade`; returns their paths. */
export async function prune(companyDir: string, keep: number, justMade: string): Promise<string[]> {
  const others = (await listIn(companyDir)).filter((b) => b.name !== justMade);
  const doomed = others.slice(keep - 1);
  for (const backup of doomed) {
    await unlink(backup.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err; // a concurrent prune got there first
    });
  }
  if (doomed.length > 0) await syncDir(companyDir);
  return doomed.map((b) => b.path);
}

/** Backups in one company's backup folder, newest first. */
async function listIn(companyDir: string): Promise<BackupInfo[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(companyDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: (BackupInfo & { stamp: string })[] = [];
  for (const entry of entries) {
    const m = BACKUP_NAME_RE.exec(entry.name);
    if (!m || !entry.isFile()) continue;
    const stamp = m[1] as string;
    const createdAt = parseTimestamp(stamp);
    if (!createdAt) continue;
    const file = path.join(companyDir, entry.name);
    const st = await lstat(file).catch(() => null);
    if (!st?.isFile()) continue;
    out.push({
      name: entry.name,
      path: file,
      createdAt,
      reason: m[2] as string,
      size: st.size,
      encrypted: m[3] !== undefined,
      stamp,
    });
  }
  out.sort((a, b) => (a.stamp === b.stamp ? b.name.localeCompare(a.name) : a.stamp < b.stamp ? 1 : -1));
  return out.map(({ stamp: _stamp, ...info }) => info);
}

/** ISO 8601 of a "20261123T101500123Z" stamp, or null when it is not a real instant. */
function parseTimestamp(stamp: string): string | null {
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.${stamp.slice(15, 18)}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || new Date(ms).toISOString() !== iso ? null : iso;
}

/** Temp archives (`.warden-tmp-<pid>-<hex>`) of backups whose process died mid-write: up to a whole backup each. */
export async function removeDeadTemps(companyDir: string): Promise<void> {
  const re = new RegExp(`^${ATOMIC_TMP_PREFIX.replace(".", "\\.")}(\\d+)-[0-9a-f]+$`);
  for (const name of await readdir(companyDir)) {
    const match = re.exec(name);
    if (!match || isProcessAlive(Number(match[1]))) continue;
    await unlink(path.join(companyDir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}
