/**
 * kill -9 at random moments of cleanup, backup and restore, on a real Baileys folder of ~1,500
 * files: each trial copies the prepared folder, runs the action in a child process (its own store,
 * as the CLI runs it), kills it with SIGKILL after a random delay, runs the crash recovery the CLI
 * runs before every action (finishInterruptedRestore), then checks what an operator relies on:
 * creds.json and app-state keys byte-identical, no file torn, every vanished file in a backup that
 * verifies, a restored folder wholly old or wholly the backup, no temp folder left in sessionsDir.
 *
 * The delays come from a seeded PRNG: a failure names its seed and trial; replay it with
 * CRASH_SEED=<seed> npx vitest run test/crash-safety.test.ts (the action's speed still varies).
 */
import { randomInt } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackup, listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { finishInterruptedRestore } from "../src/actions/restore/folder-swap.js";
import { ATOMIC_TMP_PREFIX } from "../src/fleet/classify-file.js";
import { addFiles, createCompanyFolder, names } from "./helpers/baileys-folder.js";
import { type ChildRun, copyFolder, prng, runCrashChild, trialCount } from "./helpers/crash-trial.js";
import { digest, sameDigest } from "./helpers/folder-digest.js";
import { waitFor } from "./helpers/wait-for.js";

const COMPANY = "acme";
const DAY = 86_400_000;
/** Two CPUs here: two children at a time. */
const LANES = 2;
const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : randomInt(2 ** 31);
/** Trials per action: a few in `npm test`, many more in `npm run bench:crash`. */
const TRIALS = {
  cleanup: trialCount(8, 40),
  backup: trialCount(6, 30),
  restore: trialCount(8, 40),
};
/** Kills land between 0 and this times the calibrated duration: with two lanes busy, actions run slower. */
const KILL_SPAN = 1.25;

/**
 * Where the trials run: CRASH_TMPDIR, else /dev/shm when it has room (Docker's default 64 MB has
 * not), else os.tmpdir(). A kill -9 loses no page cache, so tmpfs changes nothing the test checks,
 * and it spares the disk ~100,000 fsyncs and file copies (the suite runs ~2x faster).
 */
function dataRoot(): string {
  const shm = "/dev/shm";
  const roomy = (dir: string) => {
    try {
      const st = statfsSync(dir);
      return st.bavail * st.bsize > 512 * 1024 * 1024;
    } catch {
      return false; // no /dev/shm here
    }
  };
  const parent = process.env.CRASH_TMPDIR || (roomy(shm) ? shm : os.tmpdir());
  return mkdtempSync(path.join(parent, "warden-crash-"));
}

const APP_STATE_KEY = /^app-state-sync-key-/;

interface Prepared {
  root: string;
  /** The aged company folder every trial starts from. */
  dir: string;
  files: Map<string, string>;
  /** The restore trials' "current" folder: fewer files, a newer creds.json, one file of its own. */
  oldDir: string;
  oldFiles: Map<string, string>;
  /** A backup of `dir`, copied into each restore trial's backups folder. */
  backup: string;
  backupName: string;
}

let prepared: Prepared;

beforeAll(async () => {
  const root = dataRoot();
  const dir = path.join(root, "prepared", COMPANY);
  mkdirSync(dir, { recursive: true });
  // ~1,500 files written by Baileys itself, plus app-state keys and a lid mapping.
  await createCompanyFolder(dir, { preKeys: 1_100, sessions: 250, senderKeys: 120 });
  names(6, (i) => `app-state-sync-key-AAAA${i}.json`).forEach((name, i) => {
    addFiles(dir, [name], JSON.stringify({ keyData: `key-${i}-${"k".repeat(40 + i)}`, fingerprint: i }));
  });
  addFiles(dir, ["app-state-sync-version-regular.json", "lid-mapping-5511987654321.json"], '{"v":1}');
  // Everything a month old: the plan deletes every pre-key but the newest 50, every session and sender key.
  const old = (Date.now() - 30 * DAY) / 1000;
  for (const name of readdirSync(dir)) utimesSync(path.join(dir, name), old, old);

  const oldDir = path.join(root, "prepared-old", COMPANY);
  cpSync(dir, oldDir, { recursive: true, preserveTimestamps: true });
  for (const name of readdirSync(oldDir)) {
    if (/^(pre-key|session)-.*[02468]\.json$/.test(name)) rmSync(path.join(oldDir, name));
  }
  const creds = JSON.parse(readFileSync(path.join(oldDir, "creds.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(oldDir, "creds.json"), JSON.stringify({ ...creds, accountSyncCounter: 7 }));
  addFiles(oldDir, ["pre-key-99999.json"], '{"only":"in the old folder"}');

  const made = await createBackup({
    company: COMPANY,
    dir,
    backupsRoot: path.join(root, "prepared-backups"),
    reason: "manual",
    now: Date.now(),
  });
  prepared = {
    root,
    dir,
    files: await digest(dir),
    oldDir,
    oldFiles: await digest(oldDir),
    backup: made.path,
    backupName: made.name,
  };
  expect(prepared.files.size).toBeGreaterThan(1_450);
}, 60_000);

afterAll(() => {
  if (prepared) rmSync(prepared.root, { recursive: true, force: true });
});

interface Trial {
  label: string;
  home: string;
  sessionsDir: string;
  dir: string;
  backupsDir: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh WARDEN_HOME, config and sessions folder holding a copy of `source` as the company. */
async function makeTrial(name: string, source: string, label: string): Promise<Trial> {
  const root = path.join(prepared.root, name);
  const home = path.join(root, "home");
  const sessionsDir = path.join(root, "sessions");
  const dir = path.join(sessionsDir, COMPANY);
  await mkdir(home, { recursive: true });
  await copyFolder(source, dir);
  const configFile = path.join(root, "warden.json");
  // keepPreKeys 50 (below the safe "auto" 812): a big plan gives the kill -9 more moments to hit.
  await writeFile(
    configFile,
    JSON.stringify({ sessionsDir, preKeyReserve: 0, cleanup: { keepPreKeys: 50 }, fleet: { probe: null } }),
  );
  return {
    label,
    home,
    sessionsDir,
    dir,
    backupsDir: path.join(home, "backups", COMPANY),
    env: { ...process.env, WARDEN_CONFIG: configFile, WARDEN_HOME: home },
  };
}

/**
 * The action's mean duration over LANES uninterrupted runs at once (as the trials run), and how
 * many files a complete run leaves in the company folder.
 */
async function calibrate(
  action: string,
  source: string,
  prepareTrial?: (t: Trial) => Promise<void>,
): Promise<{ durationMs: number; filesLeft: number }> {
  const runs = await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      const trial = await makeTrial(`${action}-calibration-${lane}`, source, `${action} calibration`);
      await prepareTrial?.(trial);
      const run = await runCrashChild(action, trial, null);
      const filesLeft = readdirSync(trial.dir).length;
      await rm(path.dirname(trial.home), { recursive: true, force: true });
      return { ms: run.actionMs ?? 0, filesLeft };
    }),
  );
  const durationMs = runs.reduce((sum, r) => sum + r.ms, 0) / runs.length;
  return { durationMs, filesLeft: runs[0]?.filesLeft ?? 0 };
}

/**
 * Runs `count` trials, LANES at a time: each copies the source, kills the child after
 * fraction x KILL_SPAN x `durationMs` (fractions drawn up front from the seeded PRNG, so a seed
 * replays the same moments whatever the lanes' order), recovers, `check`s, returns the phases seen.
 */
async function runTrials(options: {
  action: string;
  salt: number;
  count: number;
  durationMs: number;
  source: string;
  prepareTrial?: (t: Trial) => Promise<void>;
  check: (t: Trial, run: ChildRun) => Promise<string>;
}): Promise<Map<string, number>> {
  const random = prng(SEED ^ options.salt);
  const fractions = Array.from({ length: options.count }, () => random());
  const phases = new Map<string, number>();
  let next = 0;
  let failure: unknown;
  // On a failure the other lane finishes its current trial and stops: no child outlives the test.
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      for (let i = next++; i < options.count && failure === undefined; i = next++) {
        const delay = Math.round((fractions[i] as number) * options.durationMs * KILL_SPAN);
        const label = `seed ${SEED} ${options.action} trial ${i} (kill ${delay} ms after go)`;
        try {
          const trial = await makeTrial(`${options.action}-${i}`, options.source, label);
          await options.prepareTrial?.(trial);
          const run = await runCrashChild(options.action, trial, delay);
          const phase = await options.check(trial, run);
          phases.set(phase, (phases.get(phase) ?? 0) + 1);
          await rm(path.dirname(trial.home), { recursive: true, force: true });
        } catch (err) {
          failure ??= err;
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
  return phases;
}

function summary(phases: Map<string, number>): string {
  return [...phases]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, n]) => `${n} ${phase}`)
    .join(", ");
}

/** The backups folder holds only archives listBackups returns (each verifies) and temp files. */
async function checkBackupsFolder(
  trial: Trial,
): Promise<{ verified: Map<string, string>; archives: number; temps: number }> {
  const listed = await listBackups(path.join(trial.home, "backups"), COMPANY);
  const entries = existsSync(trial.backupsDir) ? readdirSync(trial.backupsDir) : [];
  const temps = entries.filter((n) => n.startsWith(ATOMIC_TMP_PREFIX));
  expect(
    entries.filter((n) => !n.startsWith(ATOMIC_TMP_PREFIX)).sort(),
    `${trial.label}: backups folder`,
  ).toEqual(listed.map((b) => b.name).sort());
  const verified = new Map<string, string>();
  for (const backup of listed) {
    const result = await verifyBackup(backup.path);
    expect(result.problems, `${trial.label}: ${backup.name} must verify`).toEqual([]);
    for (const f of result.manifest?.files ?? []) verified.set(f.name, f.sha256);
  }
  return { verified, archives: listed.length, temps: temps.length };
}

/** creds.json and every app-state key present with the bytes of `expected`; nothing else torn. */
function checkFilesIntact(trial: Trial, now: Map<string, string>, expected: Map<string, string>): void {
  expect(now.get("creds.json"), `${trial.label}: creds.json`).toBe(expected.get("creds.json"));
  for (const [name, sha] of expected) {
    if (APP_STATE_KEY.test(name)) expect(now.get(name), `${trial.label}: ${name}`).toBe(sha);
  }
  for (const [name, sha] of now) expect(sha, `${trial.label}: ${name} torn or new`).toBe(expected.get(name));
}

describe(`kill -9 during cleanup (seed ${SEED})`, () => {
  it("never loses or tears a file: whatever vanished is in a verified backup with the same bytes", async () => {
    const { durationMs, filesLeft } = await calibrate("cleanup", prepared.dir);
    const planned = prepared.files.size - filesLeft;
    expect(planned).toBeGreaterThan(1_300);
    let temps = 0;
    const phases = await runTrials({
      action: "cleanup",
      salt: 0x0c1ea,
      count: TRIALS.cleanup,
      durationMs,
      source: prepared.dir,
      check: async (trial, run) => {
        expect(await finishInterruptedRestore(trial.home, trial.sessionsDir, COMPANY)).toBeNull();
        expect(readdirSync(trial.sessionsDir), trial.label).toEqual([COMPANY]);
        const now = await digest(trial.dir);
        checkFilesIntact(trial, now, prepared.files);
        const backups = await checkBackupsFolder(trial);
        temps += backups.temps;
        const gone = [...prepared.files.keys()].filter((name) => !now.has(name));
        for (const name of gone) {
          expect(backups.verified.get(name), `${trial.label}: ${name} lost`).toBe(prepared.files.get(name));
        }
        if (run.finished) return "completed";
        if (backups.archives === 0) return "before the backup was published";
        if (gone.length === 0) return "backup published, nothing deleted";
        return gone.length < planned ? "mid-delete" : "all planned files deleted";
      },
    });
    console.log(
      `crash-safety cleanup (seed ${SEED}, ${path.dirname(prepared.root)}): ${TRIALS.cleanup} trials over ${Math.round(durationMs)} ms, ${prepared.files.size} files, ${planned} planned: ${summary(phases)}; 0 lost, 0 torn; ${temps} backup temp file(s) left`,
    );
  }, 90_000);
});

describe(`kill -9 during backup (seed ${SEED})`, () => {
  it("leaves at most a .warden-tmp-* file in the backups folder, never a half-written *.tar.gz that listBackups returns", async () => {
    const { durationMs } = await calibrate("backup", prepared.dir);
    const phases = await runTrials({
      action: "backup",
      salt: 0xbac0,
      count: TRIALS.backup,
      durationMs,
      source: prepared.dir,
      check: async (trial, run) => {
        expect(await finishInterruptedRestore(trial.home, trial.sessionsDir, COMPANY)).toBeNull();
        const now = await digest(trial.dir);
        expect(sameDigest(now, prepared.files), `${trial.label}: the folder is untouched`).toBe(true);
        const backups = await checkBackupsFolder(trial);
        expect(backups.archives, trial.label).toBeLessThanOrEqual(1);
        expect(backups.temps, trial.label).toBeLessThanOrEqual(1);
        if (backups.archives === 1) {
          expect(sameDigest(backups.verified, prepared.files), `${trial.label}: archive = folder`).toBe(true);
        }
        if (run.finished) return "completed";
        if (backups.archives === 1) return backups.temps ? "published, temp not yet removed" : "published";
        return backups.temps ? "mid-write (temp file left)" : "before the temp file";
      },
    });
    console.log(
      `crash-safety backup (seed ${SEED}, ${path.dirname(prepared.root)}): ${TRIALS.backup} trials over ${Math.round(durationMs)} ms: ${summary(phases)}; 0 half-written archives`,
    );
  }, 90_000);
});

describe(`kill -9 during restore (seed ${SEED})`, () => {
  /** The restore trials start from the old folder, with the backup of the prepared one to restore. */
  const withBackup = async (trial: Trial) => {
    await mkdir(trial.backupsDir, { recursive: true });
    await cp(prepared.backup, path.join(trial.backupsDir, prepared.backupName), { preserveTimestamps: true });
  };

  it("after recovery the folder is wholly the old one or wholly the backup, and the old one is kept aside", async () => {
    const { durationMs } = await calibrate("restore", prepared.oldDir, withBackup);
    const phases = await runTrials({
      action: "restore",
      salt: 0x7e57,
      count: TRIALS.restore,
      durationMs,
      source: prepared.oldDir,
      prepareTrial: withBackup,
      check: async (trial, run) => {
        const outcome = await finishInterruptedRestore(trial.home, trial.sessionsDir, COMPANY);
        expect(readdirSync(trial.sessionsDir), `${trial.label}: sessionsDir after recovery`).toEqual([
          COMPANY,
        ]);
        expect(existsSync(path.join(trial.home, "restores", `${COMPANY}.json`)), trial.label).toBe(false);
        const now = await digest(trial.dir);
        const restored = sameDigest(now, prepared.files);
        const kept = sameDigest(now, prepared.oldFiles);
        expect(restored || kept, `${trial.label}: a mix of old and restored files (outcome ${outcome})`).toBe(
          true,
        );
        checkFilesIntact(trial, now, restored ? prepared.files : prepared.oldFiles);
        const asideRoot = path.join(trial.home, "replaced", COMPANY);
        const aside = existsSync(asideRoot) ? readdirSync(asideRoot) : [];
        if (restored) {
          expect(aside, `${trial.label}: the old folder moved aside`).toHaveLength(1);
          const oldKept = await digest(path.join(asideRoot, aside[0] as string));
          expect(sameDigest(oldKept, prepared.oldFiles), `${trial.label}: old folder intact`).toBe(true);
        } else {
          expect(aside, `${trial.label}: nothing moved aside`).toEqual([]);
        }
        const backups = await checkBackupsFolder(trial);
        expect(backups.archives, trial.label).toBe(1);
        if (run.finished) return "completed";
        if (outcome === null) return restored ? "after the journal was dropped" : "before the journal";
        return `${restored ? "restored" : "kept"}: ${outcome.split(":")[0]}`;
      },
    });
    console.log(
      `crash-safety restore (seed ${SEED}, ${path.dirname(prepared.root)}): ${TRIALS.restore} trials over ${Math.round(durationMs)} ms: ${summary(phases)}; 0 mixed folders, 0 temp folders left`,
    );
  }, 90_000);

  it("recovery leaves a restore that is still running alone (a second CLI command must not undo it)", async () => {
    const trial = await makeTrial("restore-live", prepared.oldDir, "live restore");
    await withBackup(trial);
    const journal = path.join(trial.home, "restores", `${COMPANY}.json`);
    const child = runCrashChild("restore", trial, null);
    let exited = false;
    void child.then(
      () => {
        exited = true;
      },
      () => {
        exited = true;
      },
    );
    // What `warden cleanup acme` or a second `warden restore acme` runs first, while the restore is mid-way.
    const sawJournal = await waitFor(() => exited || existsSync(journal), {
      timeoutMs: 30_000,
      intervalMs: 1,
    });
    let outcome: string | null;
    try {
      expect(sawJournal && !exited, "the restore's journal appeared while it ran").toBe(true);
      outcome = await finishInterruptedRestore(trial.home, trial.sessionsDir, COMPANY);
    } finally {
      await child.catch(() => undefined); // never leave the child writing after the test
    }
    expect(outcome).toBeNull();
    const run = await child;
    expect(run.finished).toBe(true);
    expect(readdirSync(trial.sessionsDir)).toEqual([COMPANY]);
    expect(sameDigest(await digest(trial.dir), prepared.files)).toBe(true);
    expect(existsSync(journal)).toBe(false);
  }, 60_000);
});
