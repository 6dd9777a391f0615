/**
 * What a cleanup deletes from: the company folder (key files) or its database store (rows). Both
 * list keys with their ages for the same planner, give the creds facts its rules need, hash what
 * is there now (so a key changed since the backup is kept), and delete by name: files one unlink
 * each, rows in one transaction.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, unlink } from "node:fs/promises";
import path from "node:path";
import { rowAge } from "../../auth-store/auth-rows.js";
import { type AuthStoreAccess, openCompanyRows } from "../../auth-store/company-rows.js";
import { readStoreChoice, type StoreKind } from "../../auth-store/store-choice.js";
import { FileRefusedError } from "../../errors.js";
import { ATOMIC_TMP_PREFIX, classifyFile } from "../../fleet/classify-file.js";
import { ownUsersOf } from "../../fleet/file-user.js";
import { syncDir } from "../../fleet/sync-dir.js";
import { readRegularFile } from "../../fs/safe-read.js";
import type { CleanupFile } from "./plan-cleanup.js";

/** The facts of creds the planner's rules need. */
export interface PlanCredsFacts {
  newestPreKeyId: number | null;
  ownUsers: string[] | null;
}

/** A company's keys as a cleanup sees them. */
export interface CleanupTarget {
  readonly kind: StoreKind;
  files(): Promise<CleanupFile[]>;
  credsFacts(): Promise<PlanCredsFacts>;
  /** sha256 of each named key now (absent: gone; "refused: ..." for a file that is not regular). */
  hashes(names: readonly string[]): Promise<Map<string, string>>;
  /** Deletes the named keys; returns how many were there. */
  remove(names: readonly string[], onEach?: (done: number) => void): Promise<number>;
  close(): Promise<void>;
}

/** Opens the store `dir`/warden-auth.json names. */
export async function openCleanupTarget(
  dir: string,
  company: string,
  access: AuthStoreAccess,
): Promise<CleanupTarget> {
  const kind = await readStoreChoice(dir);
  if (kind === "files") return folderTarget(dir);
  const rows = await openCompanyRows(access, company, kind);
  return {
    kind,
    files: async () =>
      (await rows.list()).map((r) => ({
        name: r.name,
        category: classifyFile(r.name),
        size: r.size,
        mtimeMs: rowAge(r),
      })),
    credsFacts: async () => {
      const facts = await rows.credsFacts();
      return { newestPreKeyId: facts.newestPreKeyId, ownUsers: facts.ownUsers };
    },
    hashes: async (names) => {
      const values = await rows.read(names);
      return new Map([...values].map(([name, data]) => [name, sha256(data)]));
    },
    remove: async (names, onEach) => {
      const present = new Set((await rows.list()).map((r) => r.name));
      const doomed = names.filter((n) => present.has(n));
      await rows.write([], doomed, Date.now());
      onEach?.(doomed.length);
      return doomed.length;
    },
    close: () => rows.close(),
  };
}

function folderTarget(dir: string): CleanupTarget {
  return {
    kind: "files",
    files: () => listCleanupFiles(dir),
    credsFacts: () => readCredsFacts(dir),
    hashes: async (names) => {
      const out = new Map<string, string>();
      for (const name of names) {
        const hash = await hashFile(path.join(dir, name));
        if (hash !== undefined) out.set(name, hash);
      }
      return out;
    },
    remove: async (names, onEach) => {
      let deleted = 0;
      for (const name of names) {
        const gone = await unlink(path.join(dir, name)).then(
          () => false,
          (err: NodeJS.ErrnoException) => {
            if (err.code !== "ENOENT") throw err;
            return true;
          },
        );
        if (!gone) onEach?.(++deleted);
      }
      await syncDir(dir);
      return deleted;
    },
    close: async () => undefined,
  };
}

/** Lists the regular files of a company folder as the planner wants them (symlinks and temp files left out). */
export async function listCleanupFiles(dir: string): Promise<CleanupFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: CleanupFile[] = [];
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith(ATOMIC_TMP_PREFIX)) continue;
    const st = await lstat(path.join(dir, e.name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined; // vanished between readdir and lstat
      throw err;
    });
    if (!st?.isFile()) continue;
    files.push({ name: e.name, category: classifyFile(e.name), size: st.size, mtimeMs: st.mtimeMs });
  }
  return files;
}

/**
 * creds.nextPreKeyId - 1 (the pre-key Baileys checks on connect) and our own users; nulls when
 * missing or unparseable. A creds.json that is a symlink or a FIFO throws FileRefusedError: never
 * followed, never waited on (invariant 2), and a folder in that state is not cleaned.
 */
async function readCredsFacts(dir: string): Promise<PlanCredsFacts> {
  const read = await readRegularFile(path.join(dir, "creds.json"));
  if (!read) return { newestPreKeyId: null, ownUsers: null };
  try {
    const creds = JSON.parse(read.data.toString("utf8")) as { nextPreKeyId?: unknown } | null;
    if (creds === null || typeof creds !== "object") return { newestPreKeyId: null, ownUsers: null };
    return {
      newestPreKeyId: typeof creds.nextPreKeyId === "number" ? creds.nextPreKeyId - 1 : null,
      ownUsers: ownUsersOf(creds),
    };
  } catch {
    // Unparseable creds: the planner keeps every pre-key above its floor and every session.
    return { newestPreKeyId: null, ownUsers: null };
  }
}

/** sha256 of a regular file (never through a symlink, never blocking); undefined when it is gone. */
async function hashFile(file: string): Promise<string | undefined> {
  try {
    const read = await readRegularFile(file, { maxBytes: Number.POSITIVE_INFINITY });
    return read ? sha256(read.data) : undefined;
  } catch (err) {
    // Swapped for a symlink or a FIFO since the backup: not the file backed up, so it is kept.
    if (err instanceof FileRefusedError) return `refused: ${err.reason}`;
    throw err;
  }
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
