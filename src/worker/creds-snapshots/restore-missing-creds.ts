/**
 * Restoring a missing creds.json from its snapshots (creds-snapshot.ts takes them): the newest
 * version that opens is written back, with every missing app-state-sync-key file, each atomically
 * and never over an existing file, and the restore is recorded as an audit row "restore-creds".
 */
import { randomBytes } from "node:crypto";
import { link, lstat, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { describeError } from "../../errors.js";
import { ATOMIC_TMP_PREFIX, classifyFile } from "../../fleet/classify-file.js";
import { syncDir } from "../../fleet/sync-dir.js";
import type { CredsSnapshotRow } from "../../store/creds-snapshots.js";
import type { Store } from "../../store/store.js";
import { CREDS_FILE, parseObject, type SnapshotSealer } from "./creds-snapshot.js";

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
