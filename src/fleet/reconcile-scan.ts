/**
 * What the fleet scanner's scans read from disk: the company folders listed in sessionsDir (with
 * what is not a company reported) and one company folder scanned into a snapshot (with its
 * irregular entries and failures reported). When and in what order scans run, and how their
 * results are applied, stays with the scanner (`fleet-scanner.ts`).
 */
import type { Dirent } from "node:fs";
import { lstatSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { PostgresListings } from "../auth-store/sqlite-scan.js";
import type { Clock } from "../clock.js";
import { isCompanyId } from "../config/company-id.js";
import { ATOMIC_TMP_PREFIX } from "./classify-file.js";
import { CompactMtimes, type MtimeLookup } from "./compact-mtimes.js";
import {
  type CredsCache,
  ENTRY_KIND_WORDS,
  type FolderSnapshot,
  type FolderStats,
  scanFolderSync,
} from "./scan-folder.js";
import type { ScannerReport } from "./scanner-types.js";

/** Gives a report once per key (the scanner's `reportOnce`). */
export type ReportOnce = (key: string, report: ScannerReport) => void;

/**
 * The company folders in sessionsDir; undefined when sessionsDir cannot be read (reported). Invalid
 * names and symlinks are reported and left out; the swap's own staging folders are skipped silently.
 */
export async function listCompanyFolders(
  sessionsDir: string,
  reportOnce: ReportOnce,
): Promise<string[] | undefined> {
  let entries: Dirent[];
  try {
    entries = await readdir(sessionsDir, { withFileTypes: true });
  } catch (err) {
    reportOnce(`root:${(err as NodeJS.ErrnoException).code}`, {
      kind: "scan-failed",
      message: `Cannot read sessionsDir ${sessionsDir}: ${(err as Error).message}`,
    });
    return undefined;
  }
  const present: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) {
      if (isCompanyId(entry.name)) present.push(entry.name);
      // wa-warden's own staging/aside folders of a swap: never a company, nothing to report.
      else if (entry.name.startsWith(ATOMIC_TMP_PREFIX)) continue;
      else
        reportOnce(`invalid:${entry.name}`, {
          kind: "invalid-folder",
          message: `Folder ${JSON.stringify(entry.name)} in ${sessionsDir} is not a valid company id; ignored`,
        });
    } else if (entry.isSymbolicLink()) {
      reportOnce(`symlink:${entry.name}`, {
        kind: "irregular-entry",
        message: `${path.join(sessionsDir, entry.name)} is a symlink; not followed (a company must be a real folder)`,
      });
    }
  }
  return present;
}

/** What scanning one company folder needs: the scanner's caches, its clock and pre-key floor. */
export interface ScanCompanyContext {
  sessionsDir: string;
  clock: Clock;
  credsCache: CredsCache;
  /** Per company, the mtimes its last full scan stat'ed (event scans reuse them: no stat per file). */
  mtimeCache: Map<string, MtimeLookup>;
  /** A company's pre-key floor (see FleetScannerOptions.preKeyFloor). */
  preKeyFloor?: (company: string) => number;
  /** WARDEN_HOME, for companies whose keys are in a database. */
  authHome?: string | undefined;
  /** The postgres companies' listings. */
  postgres?: PostgresListings | undefined;
  reportOnce: ReportOnce;
}

/**
 * Scans one company folder (synchronously). `listedAsDir`: the caller has just seen it as a real
 * directory in sessionsDir (no need to lstat it again; its mtimes are stat'ed afresh and cached).
 * `stats`: the folder's and its creds.json's lstat, just taken by the caller (ScanOptions.stats).
 */
export function scanCompanyFolder(
  ctx: ScanCompanyContext,
  company: string,
  listedAsDir: boolean,
  restat = true,
  stats?: FolderStats,
): FolderSnapshot | "gone" | "failed" {
  const { reportOnce } = ctx;
  const dir = path.join(ctx.sessionsDir, company);
  try {
    // Listed as a directory: its stat (when the caller took one) still catches a swap since.
    const st = listedAsDir ? stats?.dir : lstatSync(dir);
    if (st && !st.isDirectory()) {
      if (st.isSymbolicLink()) {
        reportOnce(`symlink:${company}`, {
          kind: "irregular-entry",
          message: `${dir} is a symlink; not followed (a company must be a real folder)`,
        });
      }
      return "gone";
    }
    // A full scan stats every age-ruled file at a stat sweep (restat); between sweeps it stats
    // only names it has not seen, and an event scan dates those now.
    const cached = ctx.mtimeCache.get(company);
    const known = listedAsDir && restat ? undefined : cached;
    const snapshot = scanFolderSync(dir, company, ctx.clock.now(), ctx.credsCache, {
      preKeyFloor: ctx.preKeyFloor?.(company) ?? 0,
      knownMtimes: known,
      statUnknown: listedAsDir,
      ...(ctx.authHome !== undefined ? { authHome: ctx.authHome } : {}),
      ...(ctx.postgres !== undefined ? { postgres: ctx.postgres } : {}),
      ...(stats !== undefined ? { stats } : {}),
    });
    if (!known || (listedAsDir && snapshot.mtimes.size !== known.size))
      ctx.mtimeCache.set(company, new CompactMtimes(snapshot.mtimes));
    for (const entry of snapshot.irregular) {
      reportOnce(`irregular:${company}/${entry.name}`, {
        kind: "irregular-entry",
        company,
        message: `${path.join(dir, entry.name)} is ${ENTRY_KIND_WORDS[entry.kind]}, not a regular file; not followed or read`,
      });
    }
    return snapshot;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      reportOnce(`scan:${company}:${code}`, {
        kind: "scan-failed",
        company,
        message: `Cannot scan ${dir}: ${(err as Error).message}`,
      });
      return "failed";
    }
    return "gone";
  }
}
