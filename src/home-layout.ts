/**
 * The layout of WARDEN_HOME, in one place: every path under it is built here, so a new file or
 * folder is added once and docs/architecture.md ("Files in WARDEN_HOME") lists what this builds.
 */
import path from "node:path";

/** `warden.db`: the SQLite database every process shares. */
export function databaseFile(home: string): string {
  return path.join(home, "warden.db");
}

/** `backups/`: one folder per company of `*.tar.gz[.enc]` archives. */
export function backupsRoot(home: string): string {
  return path.join(home, "backups");
}

/** `replaced/<company>/`: folders a restore or a new pairing moved aside, newest name last. */
export function replacedDir(home: string, company: string): string {
  return path.join(home, "replaced", company);
}

/** `restores/`: the journals of folder swaps in progress. */
export function restoresDir(home: string): string {
  return path.join(home, "restores");
}

/** `restores/<company>.json`: the journal of the company's folder swap in progress. */
export function restoreJournalFile(home: string, company: string): string {
  return path.join(restoresDir(home), `${company}.json`);
}

/** `removed/<company>-<time>`: a company folder `warden remove` moved out of sessionsDir. */
export function removedFolder(home: string, company: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, "-");
  return path.join(home, "removed", `${company}-${stamp}`);
}

/** `auth/`: the auth databases of companies whose store is sqlite. */
export function authDir(home: string): string {
  return path.join(home, "auth");
}

/** `auth/<company>.sqlite`: one company's auth state when its store is sqlite. */
export function authDatabaseFile(home: string, company: string): string {
  return path.join(authDir(home), `${company}.sqlite`);
}
