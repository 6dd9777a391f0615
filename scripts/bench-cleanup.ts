/**
 * `npm run bench:cleanup`: the recovery actions' figures on a realistic 5,000-file company folder.
 *
 * 1. Generates (under os.tmpdir(), removed at the end) one Baileys folder of BENCH_FILES (5,000)
 *    files: creds.json, BENCH_PREKEYS (2,000) pre-keys, sessions and sender keys written by Baileys
 *    itself (300 and 150; the rest of the sessions and sender keys are copies of those under other
 *    peers' and groups' names, as generating 2,500 more sessions through libsignal takes ~40 s),
 *    app-state keys and lid mappings. Everything is a month old but 10% of the sessions, so the
 *    plan deletes most of the folder.
 * 2. Times, median of 3 on fresh copies: the plan alone (a dry run), createBackup, verifyBackup,
 *    and runCleanup end to end (plan, backup, verify, delete, audit) with its delete phase.
 * 3. BENCH_TRIALS (100) kill -9 trials, two at a time: cleanup, backup and restore in turn, each in
 *    a child (test/fixtures/crash-action.ts, as test/crash-safety.test.ts runs it) killed with
 *    SIGKILL at a random moment (seeded: BENCH_SEED replays the moments), then the crash recovery
 *    the CLI runs (finishInterruptedRestore). Counts lost files (gone from the folder and in no
 *    verified backup, nor moved aside by a restore) and torn files (bytes that are no version the
 *    file ever had, creds.json missing or different, a restored folder mixing old and new).
 * Prints a table at the end; the exit status is 1 when a figure could not be measured or a file
 * was lost or torn. TMPDIR=/dev/shm takes the disk's fsyncs out of the figures.
 */

import { randomInt } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createActionContext } from "../src/actions/action-context.js";
import { createBackup, listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { runCleanup } from "../src/actions/cleanup/cleanup.js";
import { finishInterruptedRestore } from "../src/actions/restore/folder-swap.js";
import { systemClock } from "../src/clock.js";
import { companySettings, loadConfig } from "../src/config/load.js";
import { databaseFile } from "../src/home-layout.js";
import { openStore } from "../src/store/store.js";
import { createCompanyFolder } from "../test/helpers/baileys-folder.js";
import { type ChildRun, copyFolder, prng, runCrashChild } from "../test/helpers/crash-trial.js";
import { digest, sameDigest, sha256 } from "../test/helpers/folder-digest.js";
import { positiveInt } from "./bench-env.js";

const FILES = positiveInt("BENCH_FILES", 5_000);
const PREKEYS = positiveInt("BENCH_PREKEYS", 2_000);
const TRIALS = positiveInt("BENCH_TRIALS", 100);
const SEED = process.env.BENCH_SEED ? Number(process.env.BENCH_SEED) : randomInt(2 ** 31);
const REAL_SESSIONS = 300;
const REAL_SENDER_KEYS = 150;
const APP_STATE_KEYS = 8;
const LID_MAPPINGS = 40;
const COMPANY = "acme";
const DAY = 86_400_000;
const RUNS = 3;
/** Two CPUs: two children at a time. */
const LANES = 2;
/** Kills land between 0 and this times the calibrated duration (the lanes slow each other down). */
const KILL_SPAN = 1.25;
const ACTIONS = ["cleanup", "backup", "restore"] as const;
type Action = (typeof ACTIONS)[number];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

// ---------------------------------------------------------------------------------------------
// Folder generation

/** The name of a copy of a Baileys file, under another peer (sessions) or group (sender keys). */
function renamed(name: string, round: number): string {
  // The first run of digits is the peer's user or the group's id: shifting it keeps names unique.
  return name.replace(/\d+/, (digits) => String(BigInt(digits) + BigInt(round) * 10_000_000n));
}

/** The benchmark folder: real Baileys files, then copies up to FILES; returns its file count. */
async function generateFolder(dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  await createCompanyFolder(dir, {
    preKeys: PREKEYS,
    sessions: REAL_SESSIONS,
    senderKeys: REAL_SENDER_KEYS,
  });
  for (let i = 0; i < APP_STATE_KEYS; i++) {
    writeFileSync(
      path.join(dir, `app-state-sync-key-AAAAAA${i}.json`),
      JSON.stringify({ keyData: sha256(Buffer.from(`key ${i}`)), fingerprint: { rawId: i } }),
    );
  }
  writeFileSync(path.join(dir, "app-state-sync-version-regular.json"), '{"version":42}');
  for (let i = 0; i < LID_MAPPINGS; i++) {
    writeFileSync(path.join(dir, `lid-mapping-55119${10_000_000 + i}.json`), `"${200_000_000_000_000 + i}"`);
  }
  const real = readdirSync(dir).filter(
    (n) => n.startsWith("session-") || (n.startsWith("sender-key-") && !n.startsWith("sender-key-memory-")),
  );
  // Two sessions for each sender key, as in a real folder.
  const templates = real.sort(
    (a, b) => (a.startsWith("session-") ? 0 : 1) - (b.startsWith("session-") ? 0 : 1),
  );
  let count = readdirSync(dir).length;
  for (let round = 1; count < FILES; round++) {
    for (const name of templates) {
      if (count >= FILES) break;
      copyFileSync(path.join(dir, name), path.join(dir, renamed(name, round)));
      count++;
    }
  }
  const old = (Date.now() - 30 * DAY) / 1000;
  for (const [i, name] of readdirSync(dir).sort().entries()) {
    if (name.startsWith("session-") && i % 10 === 0) continue; // young: the plan keeps them
    utimesSync(path.join(dir, name), old, old);
  }
  return readdirSync(dir).length;
}

function categoryCounts(dir: string): string {
  const counts = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    const category =
      /^(creds|pre-key|session|sender-key|app-state-sync-key|app-state-sync-version|lid-mapping)/.exec(
        name,
      )?.[1];
    counts.set(category ?? "other", (counts.get(category ?? "other") ?? 0) + 1);
  }
  return [...counts].map(([c, n]) => `${n} ${c}`).join(", ");
}

// ---------------------------------------------------------------------------------------------
// Timings

interface Timings {
  planMs: number;
  planned: number;
  backupMs: number;
  backupBytes: number;
  verifyMs: number;
  cleanupMs: number;
  deleteMs: number;
  deleted: number;
}

/** One company home: config, store, sessions folder with a copy of the benchmark folder. */
interface Home {
  root: string;
  home: string;
  sessionsDir: string;
  dir: string;
  backupsRoot: string;
  configFile: string;
}

async function makeHome(root: string, source: string | null): Promise<Home> {
  const home = path.join(root, "home");
  const sessionsDir = path.join(root, "sessions");
  const dir = path.join(sessionsDir, COMPANY);
  mkdirSync(home, { recursive: true });
  if (source) await copyFolder(source, dir);
  else mkdirSync(dir, { recursive: true });
  const configFile = path.join(root, "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir, preKeyReserve: 0, fleet: { probe: null } }));
  return { root, home, sessionsDir, dir, backupsRoot: path.join(home, "backups"), configFile };
}

async function timeActions(tmpRoot: string, source: string): Promise<Timings> {
  const plans: number[] = [];
  const backups: number[] = [];
  const verifies: number[] = [];
  const cleanups: number[] = [];
  const deletes: number[] = [];
  let planned = 0;
  let deleted = 0;
  let backupBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const h = await makeHome(path.join(tmpRoot, `timing-${run}`), source);
    const config = loadConfig(h.configFile);
    const store = openStore(databaseFile(h.home));
    try {
      const actions = createActionContext({ store, clock: systemClock, config, home: h.home });
      const common = { company: COMPANY, settings: companySettings(config, COMPANY), actor: "bench" };
      let t0 = performance.now();
      const dry = await runCleanup(actions, { ...common, dryRun: true });
      plans.push(performance.now() - t0);
      planned = dry.plan.delete.length;

      t0 = performance.now();
      const made = await createBackup({
        company: COMPANY,
        dir: h.dir,
        backupsRoot: h.backupsRoot,
        reason: "manual",
        now: Date.now(),
      });
      backups.push(performance.now() - t0);
      backupBytes = made.size;
      t0 = performance.now();
      const verified = await verifyBackup(made.path);
      verifies.push(performance.now() - t0);
      if (!verified.ok) throw new Error(`the benchmark backup did not verify: ${verified.problems[0]}`);

      let deleteStart: number | undefined;
      t0 = performance.now();
      const result = await runCleanup(actions, {
        ...common,
        onProgress: (phase) => {
          if (phase === "delete") deleteStart ??= performance.now();
        },
      });
      const end = performance.now();
      cleanups.push(end - t0);
      deletes.push(end - (deleteStart ?? end));
      deleted = result.deleted;
    } finally {
      store.close();
    }
    await rm(h.root, { recursive: true, force: true });
  }
  return {
    planMs: median(plans),
    planned,
    backupMs: median(backups),
    backupBytes,
    verifyMs: median(verifies),
    cleanupMs: median(cleanups),
    deleteMs: median(deletes),
    deleted,
  };
}

// ---------------------------------------------------------------------------------------------
// kill -9 trials

/** The child's environment for one trial home. */
function childOf(h: Home, action: Action): { env: NodeJS.ProcessEnv; label: string } {
  return {
    env: { ...process.env, WARDEN_CONFIG: h.configFile, WARDEN_HOME: h.home },
    label: `${action} trial`,
  };
}

/** What the trials start from. */
interface Sources {
  /** The benchmark folder (cleanup, backup) and the content of the restore trials' backup. */
  dir: string;
  files: Map<string, string>;
  /** The restore trials' current folder: fewer files, another creds.json, one file of its own. */
  oldDir: string;
  oldFiles: Map<string, string>;
  backup: string;
  backupName: string;
}

async function prepareSources(tmpRoot: string, dir: string): Promise<Sources> {
  const oldDir = path.join(tmpRoot, "old", COMPANY);
  await copyFolder(dir, oldDir);
  for (const name of readdirSync(oldDir)) {
    if (/^(pre-key|session)-.*[02468]\.json$/.test(name)) rmSync(path.join(oldDir, name));
  }
  const creds = JSON.parse(readFileSync(path.join(oldDir, "creds.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(oldDir, "creds.json"), JSON.stringify({ ...creds, accountSyncCounter: 7 }));
  writeFileSync(path.join(oldDir, "pre-key-999999.json"), '{"only":"in the old folder"}');
  const made = await createBackup({
    company: COMPANY,
    dir,
    backupsRoot: path.join(tmpRoot, "source-backups"),
    reason: "manual",
    now: Date.now(),
  });
  return {
    dir,
    files: await digest(dir),
    oldDir,
    oldFiles: await digest(oldDir),
    backup: made.path,
    backupName: made.name,
  };
}

async function makeTrialHome(root: string, action: Action, sources: Sources): Promise<Home> {
  const h = await makeHome(root, action === "restore" ? sources.oldDir : sources.dir);
  if (action === "restore") {
    const backupsDir = path.join(h.backupsRoot, COMPANY);
    mkdirSync(backupsDir, { recursive: true });
    copyFileSync(sources.backup, path.join(backupsDir, sources.backupName));
  }
  return h;
}

interface TrialOutcome {
  lost: number;
  torn: number;
  mixed: boolean;
  /** `.warden-tmp-*` entries left in sessionsDir after recovery. */
  leftovers: number;
  /** Half-written archives listBackups returns (they fail verification). */
  badArchives: number;
  phase: string;
}

/** Recovers as the CLI would, then counts what an operator would have lost. */
async function inspect(action: Action, h: Home, run: ChildRun, sources: Sources): Promise<TrialOutcome> {
  const outcome = await finishInterruptedRestore(h.home, h.sessionsDir, COMPANY);
  const leftovers = readdirSync(h.sessionsDir).filter((n) => n !== COMPANY).length;
  const now = existsSync(h.dir) ? await digest(h.dir) : new Map<string, string>();

  // Every verified backup's content, and what a restore moved aside.
  const safe = new Map<string, Set<string>>();
  const keep = (name: string, sha: string) => {
    const set = safe.get(name) ?? new Set<string>();
    set.add(sha);
    safe.set(name, set);
  };
  let badArchives = 0;
  let archives = 0;
  for (const backup of await listBackups(h.backupsRoot, COMPANY)) {
    const verified = await verifyBackup(backup.path);
    if (!verified.ok) badArchives++;
    else archives++;
    for (const f of verified.ok ? (verified.manifest?.files ?? []) : []) keep(f.name, f.sha256);
  }
  const asideRoot = path.join(h.home, "replaced", COMPANY);
  const asides = existsSync(asideRoot) ? readdirSync(asideRoot) : [];
  for (const aside of asides) {
    for (const [name, sha] of await digest(path.join(asideRoot, aside))) keep(name, sha);
  }

  // The versions each file ever had: the starting folder's, and for a restore the backup's.
  const start = action === "restore" ? sources.oldFiles : sources.files;
  const versions = (name: string) =>
    [start.get(name), action === "restore" ? sources.files.get(name) : undefined].filter(
      (v): v is string => v !== undefined,
    );
  let torn = 0;
  for (const [name, sha] of now) if (!versions(name).includes(sha)) torn++;
  const expectedCreds = versions("creds.json");
  if (!now.has("creds.json") || !expectedCreds.includes(now.get("creds.json") as string)) torn++;
  const restored = sameDigest(now, sources.files);
  const mixed = action === "restore" && !restored && !sameDigest(now, sources.oldFiles);
  let lost = 0;
  for (const [name, sha] of start) {
    if (now.get(name) !== sha && !safe.get(name)?.has(sha)) lost++;
  }

  let phase: string;
  if (run.finished) phase = "completed";
  else if (action === "backup") phase = archives > 0 ? "archive published" : "archive not published";
  else if (action === "cleanup") {
    const gone = [...start.keys()].filter((n) => !now.has(n)).length;
    phase = archives === 0 ? "before the backup" : gone === 0 ? "backup done, nothing deleted" : "deleting";
  } else if (outcome === null) phase = restored ? "journal dropped" : "before the journal";
  else phase = `${restored ? "restored" : "kept"}: ${outcome.split(":")[0]}`;
  return { lost, torn, mixed, leftovers, badArchives, phase };
}

interface TrialTotals {
  trials: number;
  byAction: Map<Action, number>;
  phases: Map<string, number>;
  lost: number;
  torn: number;
  mixed: number;
  leftovers: number;
  badArchives: number;
  failures: string[];
  durations: Map<Action, number>;
}

async function killTrials(tmpRoot: string, sources: Sources): Promise<TrialTotals> {
  const totals: TrialTotals = {
    trials: 0,
    byAction: new Map(),
    phases: new Map(),
    lost: 0,
    torn: 0,
    mixed: 0,
    leftovers: 0,
    badArchives: 0,
    failures: [],
    durations: new Map(),
  };
  // Calibration: each action once, uninterrupted, both lanes busy as during the trials.
  for (const action of ACTIONS) {
    const runs = await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        const h = await makeTrialHome(path.join(tmpRoot, `calibrate-${action}-${lane}`), action, sources);
        const run = await runCrashChild(action, childOf(h, action), null);
        await rm(h.root, { recursive: true, force: true });
        return run.actionMs ?? 0;
      }),
    );
    totals.durations.set(action, runs.reduce((a, b) => a + b, 0) / runs.length);
  }
  console.log(
    `  calibrated (2 at a time): ${ACTIONS.map((a) => `${a} ${Math.round(totals.durations.get(a) ?? 0)} ms`).join(", ")}`,
  );

  const random = prng(SEED);
  const plan = Array.from({ length: TRIALS }, (_, i) => ({
    action: ACTIONS[i % ACTIONS.length] as Action,
    fraction: random(),
  }));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      for (let i = next++; i < TRIALS; i = next++) {
        const { action, fraction } = plan[i] as { action: Action; fraction: number };
        const delay = Math.round(fraction * KILL_SPAN * (totals.durations.get(action) ?? 0));
        const h = await makeTrialHome(path.join(tmpRoot, `trial-${i}`), action, sources);
        const run = await runCrashChild(action, childOf(h, action), delay);
        const o = await inspect(action, h, run, sources);
        totals.trials++;
        totals.byAction.set(action, (totals.byAction.get(action) ?? 0) + 1);
        const phase = `${action}: ${o.phase}`;
        totals.phases.set(phase, (totals.phases.get(phase) ?? 0) + 1);
        totals.lost += o.lost;
        totals.torn += o.torn;
        totals.mixed += o.mixed ? 1 : 0;
        totals.leftovers += o.leftovers;
        totals.badArchives += o.badArchives;
        if (o.lost + o.torn + o.leftovers + o.badArchives > 0 || o.mixed) {
          totals.failures.push(
            `trial ${i} ${action} killed ${delay} ms after go (${o.phase}): ${o.lost} lost, ${o.torn} torn, mixed ${o.mixed}, ${o.leftovers} leftovers, ${o.badArchives} bad archives; kept in ${h.root}`,
          );
        } else {
          await rm(h.root, { recursive: true, force: true });
        }
        if (totals.trials % 10 === 0) {
          console.log(
            `  ${totals.trials}/${TRIALS} trials (${Math.round((performance.now() - started) / 1000)} s): ${totals.lost} lost, ${totals.torn} torn so far`,
          );
        }
      }
    }),
  );
  return totals;
}

// ---------------------------------------------------------------------------------------------

let tmpRoot: string | undefined;

async function cleanup(): Promise<void> {
  if (tmpRoot) {
    rmSync(tmpRoot, { recursive: true, force: true });
    tmpRoot = undefined;
  }
}

function printTable(timings: Timings | undefined, trials: TrialTotals | undefined, files: number): void {
  const rows: [string, string, string][] = [];
  const ms = (value: number) => `${Math.round(value)} ms`;
  if (timings) {
    rows.push([`plan alone (dry run, ${files} files)`, ms(timings.planMs), `${timings.planned} planned`]);
    rows.push([
      "backup (createBackup)",
      ms(timings.backupMs),
      `${(timings.backupBytes / 1024 / 1024).toFixed(1)} MB .tar.gz`,
    ]);
    rows.push(["verify (verifyBackup)", ms(timings.verifyMs), ""]);
    rows.push(["cleanup end to end (runCleanup)", ms(timings.cleanupMs), `${timings.deleted} deleted`]);
    rows.push(["  of which delete (re-hash + unlink)", ms(timings.deleteMs), ""]);
  }
  if (trials) {
    const by = ACTIONS.map((a) => `${trials.byAction.get(a) ?? 0} ${a}`).join(", ");
    rows.push(["kill -9 trials", String(trials.trials), by]);
    rows.push(["lost files", String(trials.lost), "target 0"]);
    rows.push(["torn files", String(trials.torn), "target 0"]);
    rows.push(["mixed restored folders", String(trials.mixed), "target 0"]);
    rows.push(["temp folders left in sessionsDir", String(trials.leftovers), "target 0"]);
    rows.push(["half-written archives listed", String(trials.badArchives), "target 0"]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log("results:");
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd());
}

async function main(): Promise<{ timings: Timings; trials: TrialTotals; files: number }> {
  tmpRoot = mkdtempSync(path.join(os.tmpdir(), "warden-bench-cleanup-"));
  const fsType = (() => {
    try {
      const mounts = readFileSync("/proc/mounts", "utf8")
        .split("\n")
        .map((l) => l.split(" "));
      const best = mounts
        .filter((m) => m[1] && (tmpRoot as string).startsWith(m[1]))
        .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0))[0];
      return best ? `${best[2]} on ${best[1]}` : "unknown";
    } catch {
      return "unknown";
    }
  })();
  console.log(`wa-warden cleanup bench: data under ${tmpRoot} (${fsType}); seed ${SEED}`);
  const source = path.join(tmpRoot, "source", COMPANY);
  let t0 = performance.now();
  const files = await generateFolder(source);
  console.log(
    `  generated ${files} files (${categoryCounts(source)}) in ${Math.round(performance.now() - t0)} ms`,
  );

  const timings = await timeActions(tmpRoot, source);
  console.log(
    `plan ${Math.round(timings.planMs)} ms (${timings.planned} of ${files} files planned), backup ${Math.round(timings.backupMs)} ms, verify ${Math.round(timings.verifyMs)} ms, cleanup end to end ${Math.round(timings.cleanupMs)} ms (delete phase ${Math.round(timings.deleteMs)} ms) — median of ${RUNS}`,
  );

  t0 = performance.now();
  const sources = await prepareSources(tmpRoot, source);
  console.log(
    `  restore sources ready in ${Math.round(performance.now() - t0)} ms; ${TRIALS} kill -9 trials next`,
  );
  t0 = performance.now();
  const trials = await killTrials(tmpRoot, sources);
  console.log(`kill -9: ${trials.trials} trials in ${Math.round((performance.now() - t0) / 1000)} s`);
  const phases = [...trials.phases].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const [phase, n] of phases) console.log(`  ${String(n).padStart(3)}  ${phase}`);
  for (const failure of trials.failures) console.log(`  FAILED ${failure}`);
  return { timings, trials, files };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

const started = performance.now();
let exitCode = 0;
let result: Awaited<ReturnType<typeof main>> | undefined;
try {
  result = await main();
  if (result.trials.failures.length > 0) {
    exitCode = 1;
    tmpRoot = undefined; // keep the failed trials' folders for a look
  }
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
printTable(result?.timings, result?.trials, result?.files ?? FILES);
console.log(`  bench took ${Math.round((performance.now() - started) / 1000)} s`);
process.exit(exitCode);
