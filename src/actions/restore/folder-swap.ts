/**
 * The journaled swap of a company folder (a restore, or a new pairing's fresh folder):
 *   journal → fill a staged folder next to the company folder (same file system) → rename the
 *   folder to a temp name → rename the staged folder into place → move the old folder aside into
 *   WARDEN_HOME/replaced (kept, never inside sessionsDir where it would look like a company) → drop
 *   the journal.
 * POSIX has no portable "exchange two folders", so there is an instant between the two renames
 * where the company folder does not exist. The journal (WARDEN_HOME/restores/<company>.json) makes
 * a crash there recoverable: finishInterruptedRestore rolls forward when the new folder is
 * complete, or back when the swap had not started. Either way the folder is wholly the old one or
 * wholly the new one, never a mix.
 */
import { randomBytes } from "node:crypto";
import { cp, lstat, mkdir, open, readdir, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { ATOMIC_TMP_PREFIX } from "../../fleet/classify-file.js";
import { syncDir } from "../../fleet/sync-dir.js";
import { readRegularFile } from "../../fs/safe-read.js";
import { replacedDir, restoreJournalFile, restoresDir } from "../../home-layout.js";
import { isProcessAlive } from "../../process-alive.js";
import { formatTimestamp } from "../backup/backup.js";

/** The journal of a folder swap in progress (a restore, or a new pairing's fresh folder). */
export interface RestoreJournal {
  company: string;
  /** The verified, fully extracted folder waiting to be renamed into place. */
  staged: string;
  /** Where the current folder is renamed before the staged one takes its place. */
  old: string;
  /** Final resting place of the old folder. */
  aside: string;
  /** The restoring process: while it lives the restore is in progress, not interrupted. */
  pid?: number;
}

/**
 * Replaces the company folder with a new one, journaled: `fill(staged)` creates the new folder next
 * to it (same file system), then two renames swap it in and the old folder is moved to
 * WARDEN_HOME/replaced/<company>/<stamp>-<asideSuffix>. Returns where the old one went (null: there
 * was none). A crash at any point is finished or undone by finishInterruptedRestore.
 */
export async function swapCompanyFolder(
  home: string,
  sessionsDir: string,
  company: string,
  asideSuffix: string,
  now: number,
  fill: (staged: string) => Promise<void>,
): Promise<string | null> {
  const current = path.join(sessionsDir, company);
  const stamp = formatTimestamp(now);
  const tag = `${company}-${stamp}-${randomBytes(4).toString("hex")}`;
  const journal: RestoreJournal = {
    company,
    staged: path.join(sessionsDir, `${ATOMIC_TMP_PREFIX}restored-${tag}`),
    old: path.join(sessionsDir, `${ATOMIC_TMP_PREFIX}replaced-${tag}`),
    aside: path.join(replacedDir(home, company), `${stamp}-${asideSuffix}`),
    pid: process.pid,
  };
  await writeJournal(home, journal);
  await fill(journal.staged);
  const hadFolder = await exists(current);
  if (hadFolder) await rename(current, journal.old);
  // ← a crash here leaves no company folder: finishInterruptedRestore renames the staged one in.
  await rename(journal.staged, current);
  await syncDir(sessionsDir);
  const movedAside = hadFolder ? await moveAside(journal.old, journal.aside) : null;
  await removeJournal(home, company);
  return movedAside;
}

/**
 * Completes or undoes a restore that a crash interrupted; returns what it did (null: nothing to do).
 * Safe to call any time, from any process: it acts only when a journal exists and the process that
 * wrote it is gone (or is this one, undoing its own failed restore).
 */
export async function finishInterruptedRestore(
  home: string,
  sessionsDir: string,
  company: string,
): Promise<string | null> {
  const journal = await readJournal(home, company);
  await removeExtractLeftovers(sessionsDir);
  await removeJournalTemps(home, company);
  if (!journal) return null;
  // A restore still running in another process is not interrupted: `warden cleanup` and a second
  // `warden restore` call this before their hold is refused, and would drop the live journal or rm
  // its staged folder mid-swap (then the rename into place fails: no company folder at all).
  if (journal.pid !== undefined && journal.pid !== process.pid && isProcessAlive(journal.pid)) return null;
  const current = path.join(sessionsDir, company);
  let outcome: string;
  if (!(await exists(current)) && (await exists(journal.staged))) {
    // Crashed between the two renames: the staged folder was complete (extract renames it in only
    // after every file verified), so finish the swap.
    await rename(journal.staged, current);
    outcome = "rolled forward: the restored folder was put in place";
  } else if (await exists(journal.staged)) {
    // The swap never started: the current folder is the old one; drop the staged copy.
    await rm(journal.staged, { recursive: true, force: true });
    outcome = "rolled back: the folder was left as it was";
  } else if (await exists(journal.old)) {
    outcome = "the swap had completed; the old folder is moved aside";
  } else if (await exists(journal.aside)) {
    // Killed after the old folder was moved aside, before the journal was dropped.
    outcome = "the restore had completed; only its journal was left";
  } else {
    outcome = "rolled back: the backup was not fully extracted; the folder was left as it was";
  }
  await syncDir(sessionsDir);
  if (await exists(journal.old)) await moveAside(journal.old, journal.aside);
  await removeJournal(home, company);
  return outcome;
}

/** Every company with a restore journal (an interrupted restore). */
export async function interruptedRestores(home: string): Promise<string[]> {
  const names = await readdir(journalDir(home)).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length));
}

/** Moves a folder out of sessionsDir to `to` (or `to-N` if taken); copies across file systems. */
export async function moveAside(from: string, to: string): Promise<string> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  let target = to;
  for (let i = 1; await exists(target); i++) target = `${to}-${i}`;
  try {
    await rename(from, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    // WARDEN_HOME on another file system: copy (symlinks copied as links, never followed), then remove.
    await cp(from, target, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
    await rm(from, { recursive: true, force: true });
  }
  await syncDir(path.dirname(target));
  return target;
}

const journalDir = restoresDir;
const journalFile = restoreJournalFile;

/** Writes the swap journal durably (temp, fsync, rename, fsync the folder). */
export async function writeJournal(home: string, journal: RestoreJournal): Promise<void> {
  await mkdir(journalDir(home), { recursive: true, mode: 0o700 });
  const file = journalFile(home, journal.company);
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(journal));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await syncDir(journalDir(home));
}

async function readJournal(home: string, company: string): Promise<RestoreJournal | undefined> {
  // Never through a symlink, never blocked by a FIFO (invariant 2).
  const read = await readRegularFile(journalFile(home, company));
  if (!read) return undefined;
  return JSON.parse(read.data.toString("utf8")) as RestoreJournal;
}

/** Drops the journal once the swap is complete. */
export async function removeJournal(home: string, company: string): Promise<void> {
  await unlink(journalFile(home, company)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await syncDir(journalDir(home)).catch(() => undefined);
}

/** extractBackup's own staging folders (`.warden-tmp-restore-<pid>-<hex>`) left by a dead process. */
async function removeExtractLeftovers(sessionsDir: string): Promise<void> {
  const entries = await readdir(sessionsDir).catch(() => [] as string[]);
  for (const name of entries) {
    const match = new RegExp(`^${ATOMIC_TMP_PREFIX.replace(".", "\\.")}restore-(\\d+)-[0-9a-f]+$`).exec(name);
    if (!match || isProcessAlive(Number(match[1]))) continue;
    await rm(path.join(sessionsDir, name), { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => null)) !== null;
}

/** `restores/<company>.json.<pid>.tmp` left by a process killed while writing its journal. */
async function removeJournalTemps(home: string, company: string): Promise<void> {
  const prefix = `${company}.json.`;
  for (const name of await readdir(journalDir(home)).catch(() => [] as string[])) {
    const pid = Number(name.slice(prefix.length, -".tmp".length));
    if (!name.startsWith(prefix) || !name.endsWith(".tmp") || isProcessAlive(pid)) continue;
    await rm(path.join(journalDir(home), name), { force: true });
  }
}
