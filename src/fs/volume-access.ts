/**
 * Can this process write where wa-warden keeps its state? The threat: a folder it cannot write,
 * usually after a redeploy (a volume created by root or by an image with another uid, a host folder
 * restored with its old owner, a read-only mount). Left alone, that shows up much later as an
 * EACCES stack trace from SQLite or from a creds write, in the middle of an incident. The rule: at
 * start-up (and in `warden doctor`) each state folder is checked with access(2) for this process's
 * uid, and each problem is one line that names the folder, what is wrong, and the fix
 * (`chown -R <uid>:<gid> <folder>` as root, or a read-write mount).
 *
 * What is checked, so that start-up stays fast on 10,000 companies (one readdir of sessionsDir, no
 * readdir of a company folder): the folder itself, the folders and files directly in it (company
 * folders; warden.db and its WAL files, backups/), each company's creds.json, and in WARDEN_HOME
 * the folders one level further (backups/<company>). Key files are not checked one by one: a
 * `chown -R` of the folder fixes them with the rest. Symlinks are not followed.
 */
import { accessSync, constants, type Dirent, readdirSync, type Stats, statSync } from "node:fs";
import path from "node:path";

/** A folder wa-warden must be able to write, with the name an operator knows it by. */
export interface StateVolume {
  /** "sessionsDir" or "WARDEN_HOME". */
  name: string;
  dir: string;
  /** Also check the folders inside its folders (WARDEN_HOME: backups/<company>); default false. */
  deep?: boolean;
}

/** One folder wa-warden cannot use, as said to an operator. */
export interface VolumeProblem {
  name: string;
  dir: string;
  /** The first entry at fault (the folder itself, or something in it). */
  path: string;
  /** What is wrong, without the fix. */
  what: string;
  fix: string;
  /** `what` and `fix` in one line: what start-up logs and doctor prints. */
  line: string;
}

/** Who is asking: this process by default. */
export interface Identity {
  uid: number;
  gid: number;
}

const RWX = constants.R_OK | constants.W_OK | constants.X_OK;
const RW = constants.R_OK | constants.W_OK;
const COMPANY_CREDS = "creds.json";

/** The state folders of a fleet: the sessions and WARDEN_HOME (database, backups). */
export function stateVolumes(sessionsDir: string, home: string): StateVolume[] {
  return [
    { name: "sessionsDir", dir: sessionsDir },
    { name: "WARDEN_HOME", dir: home, deep: true },
  ];
}

/** This process's uid and gid (0:0 where the platform has none). */
export function processIdentity(): Identity {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** Every volume this process cannot use, one problem per volume (none: all good). */
export function findVolumeProblems(
  volumes: readonly StateVolume[],
  identity: Identity = processIdentity(),
): VolumeProblem[] {
  const problems: VolumeProblem[] = [];
  for (const volume of volumes) {
    const problem = checkVolume(volume, identity);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** errno of a failed access(2), undefined when access is granted. */
function denied(file: string, mode: number): string | undefined {
  try {
    accessSync(file, mode);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? "EACCES";
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** "owner 0:0, mode 0755" of a path (or "cannot stat"). */
function ownership(file: string): string {
  const st = statOrUndefined(file);
  if (!st) return "cannot stat it";
  return `owner ${st.uid}:${st.gid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}`;
}

function problem(volume: StateVolume, at: string, what: string, fix: string): VolumeProblem {
  return {
    name: volume.name,
    dir: volume.dir,
    path: at,
    what,
    fix,
    line: `${volume.name} ${volume.dir}: ${what}; fix: ${fix}`,
  };
}

function checkVolume(volume: StateVolume, who: Identity): VolumeProblem | undefined {
  const chown = `chown -R ${who.uid}:${who.gid} ${volume.dir} (as root)`;
  const readOnly = () =>
    problem(
      volume,
      volume.dir,
      "is on a read-only mount and wa-warden writes there",
      "mount it read-write (drop :ro / read_only from the volume)",
    );
  const st = statOrUndefined(volume.dir);
  if (!st) {
    // Missing: fine when it can be created (the supervisor creates it).
    let parent = path.dirname(volume.dir);
    while (!statOrUndefined(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
    const code = denied(parent, constants.W_OK | constants.X_OK);
    if (code === undefined) return undefined;
    if (code === "EROFS") return readOnly();
    return problem(
      volume,
      parent,
      `does not exist and uid ${who.uid} cannot create it in ${parent} (${ownership(parent)})`,
      `mkdir -p ${volume.dir} && chown -R ${who.uid}:${who.gid} ${volume.dir} (as root)`,
    );
  }
  if (!st.isDirectory())
    return problem(volume, volume.dir, "is not a folder", `point ${volume.name} at a folder`);
  const own = denied(volume.dir, RWX);
  if (own === "EROFS") return readOnly();
  if (own !== undefined)
    return problem(
      volume,
      volume.dir,
      `uid ${who.uid} cannot write it (${ownership(volume.dir)})`,
      `${chown}, or run wa-warden as its owner`,
    );
  const bad = entriesDenied(volume);
  if (bad.length === 0) return undefined;
  const first = bad[0] as string;
  const more = bad.length > 1 ? ` and ${bad.length - 1} more` : "";
  return problem(
    volume,
    first,
    `uid ${who.uid} cannot read and write ${first} (${ownership(first)})${more}`,
    chown,
  );
}

/** The entries of a volume (see the header for which) this process cannot read and write. */
function entriesDenied(volume: StateVolume): string[] {
  const bad: string[] = [];
  const list = (folder: string): Dirent[] => {
    try {
      return readdirSync(folder, { withFileTypes: true });
    } catch {
      bad.push(folder);
      return [];
    }
  };
  for (const entry of list(volume.dir)) {
    const file = path.join(volume.dir, entry.name);
    if (entry.isFile()) {
      if (denied(file, RW) !== undefined) bad.push(file);
      continue;
    }
    if (!entry.isDirectory()) continue;
    if (denied(file, RWX) !== undefined) {
      bad.push(file);
      continue;
    }
    const creds = denied(path.join(file, COMPANY_CREDS), RW);
    if (creds !== undefined && creds !== "ENOENT") bad.push(path.join(file, COMPANY_CREDS));
    if (!volume.deep) continue;
    for (const inner of list(file)) {
      const sub = path.join(file, inner.name);
      if (inner.isDirectory() && denied(sub, RWX) !== undefined) bad.push(sub);
    }
  }
  return bad;
}
