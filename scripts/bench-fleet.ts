/**
 * `npm run bench:fleet`: the fleet as an operator runs it. For 1,000 and 10,000 companies of ~200
 * v7-shaped files (generated once, cached under the temp dir by `fleet-tree.ts`):
 * 1. builds with tsc into a temp dir (the dist/ pm2 runs), times `find <tree> -type f | wc -l`, then
 *    spawns the supervisor process (node dist/supervisor/main.js with the app's node_args from
 *    ecosystem.config.cjs, as pm2 starts it) and times spawn -> "ready" (serving) and spawn ->
 *    "First scan done" (every folder counted); at "ready" (as pm2 does) one worker process
 *    (node dist/worker/main.js, its node_args, NODE_APP_INSTANCE 0, WARDEN_DRIVER=simulated) that
 *    connects every company and reports to the supervisor;
 * 2. reads the supervisor's RSS once the worker is ready and things settled;
 * 3. at 10k: the supervisor's CPU over 60 s with nothing changing, then file -> outbox latency on
 *    BENCH_EVENTS (100) latency folders (a company file gives them count.basis "counted" and
 *    preKeyReserve 0; one more file crosses thresholds.monitor), then the longest event-loop block
 *    since ready as the supervisor's own loop monitor saw it (IPC "loop-max");
 * 4. at 1k: a storm: the config is edited so that all 1,000 companies cross `warning` at once; the
 *    time from the edit until the log notifier delivered 1,000 alerts (BENCH_STORM_TIMEOUT_S, 120).
 * Prints the figures with their targets; PASS/FAIL does not change the exit status.
 * BENCH_SIZES=1000,10000 picks the fleets; the fleet runs on the product's defaults otherwise;
 * BENCH_PROFILE_DIR=<dir> has the supervisor write a CPU profile (--cpu-prof) there when it stops.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { databaseFile } from "../src/home-layout.js";
import { ecosystemNodeArgs, positiveInt } from "./bench-env.js";
import { ensureFleetTree, fleetCreds, writeFleetCompany } from "./fleet-tree.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const FILES = positiveInt("BENCH_FILES", 200);
const EVENTS = positiveInt("BENCH_EVENTS", 100);
const IDLE_S = positiveInt("BENCH_IDLE_S", 60);
const STORM_TIMEOUT_S = positiveInt("BENCH_STORM_TIMEOUT_S", 120);
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
const READY_TIMEOUT_MS = 300_000;
const WORKER_READY_TIMEOUT_MS = 900_000;
const SETTLE_MS = 5_000;
const EVENT_TIMEOUT_MS = 10_000;
const LATENCY_FILES = 119; // thresholds.monitor 120 with basis "counted", preKeyReserve 0

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One figure of the report: its fixed name, value and target (<=). */
interface Figure {
  name: string;
  value: number | undefined;
  target: number;
  digits: number;
}
const figures = new Map<string, Figure>();
function record(name: string, value: number | undefined, target: number, digits = 0): void {
  figures.set(name, { name, value, target, digits });
}

class Proc {
  readonly proc: ChildProcess;
  readonly tail: string[] = [];
  readonly problems: string[] = [];
  alertTimes: number[] = [];
  /** When the supervisor logged "First scan done" (performance.now()), once it has. */
  firstScanAt: number | undefined;
  exited = false;
  readonly exit: Promise<void>;
  readonly ready: Promise<void>;
  private replies: ((m: unknown) => void)[] = [];

  constructor(
    readonly name: string,
    script: string,
    env: NodeJS.ProcessEnv,
  ) {
    // BENCH_PROFILE_DIR: the supervisor writes a CPU profile there when it stops (--cpu-prof).
    const profile =
      name === "supervisor" && process.env.BENCH_PROFILE_DIR
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : [];
    this.proc = spawn(process.execPath, [...ecosystemNodeArgs(`warden-${name}`), ...profile, script], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.exit = new Promise((resolve) =>
      this.proc.once("exit", () => {
        this.exited = true;
        resolve();
      }),
    );
    this.ready = new Promise((resolve, reject) => {
      this.proc.on("message", (m) => {
        if (m === "ready") resolve();
        else this.replies.shift()?.(m);
      });
      void this.exit.then(() =>
        reject(new Error(`${name} exited before ready:\n  ${this.tail.join("\n  ")}`)),
      );
    });
    this.ready.catch(() => undefined);
    createInterface({ input: this.proc.stdout as NodeJS.ReadableStream }).on("line", (l) => this.onLine(l));
    createInterface({ input: this.proc.stderr as NodeJS.ReadableStream }).on("line", (l) =>
      this.keep(`[stderr] ${l}`, true),
    );
  }

  /** Sends an IPC message and waits for the next non-"ready" reply. */
  ask(message: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.proc.send(message);
    });
  }

  /** utime + stime of the process in seconds. */
  cpuSeconds(): number {
    if (this.exited) return Number.NaN;
    const fields = readFileSync(`/proc/${this.proc.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  rssMb(): number {
    const text = readFileSync(`/proc/${this.proc.pid}/status`, "utf8");
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? Number.NaN) / 1024;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill("SIGTERM");
    const done = await Promise.race([this.exit.then(() => true), sleep(20_000).then(() => false)]);
    if (!done) {
      this.proc.kill("SIGKILL");
      await this.exit;
    }
  }

  private onLine(line: string): void {
    if (line.includes('"alert":{')) this.alertTimes.push(Date.now());
    if (line.includes('"msg":"First scan done"')) this.firstScanAt = performance.now();
    // (the connectivity probe fails on a machine without internet: not the fleet's problem)
    const warn =
      /"level":(4\d|5\d|60)/.test(line) &&
      !line.includes('"alert":{') &&
      !line.includes("Connectivity probe");
    this.keep(line, warn);
  }

  private keep(line: string, problem: boolean): void {
    const short = line.length > 300 ? `${line.slice(0, 300)}...` : line;
    this.tail.push(short);
    if (this.tail.length > 20) this.tail.shift();
    if (problem && this.problems.length < 15) this.problems.push(short);
  }
}

/** tsc into a temp dir, as `npm start` builds dist/ for pm2. */
function build(buildRoot: string): string {
  const outDir = path.join(buildRoot, "dist");
  mkdirSync(buildRoot, { recursive: true });
  writeFileSync(path.join(buildRoot, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(buildRoot, "node_modules"), "dir");
  try {
    execFileSync(
      path.join(repoRoot, "node_modules", ".bin", "tsc"),
      ["-p", "tsconfig.build.json", "--outDir", outDir],
      {
        cwd: repoRoot,
        stdio: "pipe",
      },
    );
  } catch {
    // Type errors still emit; a missing output is checked below.
  }
  if (!existsSync(path.join(outDir, "supervisor", "main.js"))) throw new Error(`tsc did not build ${outDir}`);
  return outDir;
}

function timeFind(dir: string): number {
  const t0 = performance.now();
  execFileSync("bash", ["-c", 'find "$1" -type f | wc -l', "bench", dir], { encoding: "utf8" });
  return performance.now() - t0;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;

const latName = (i: number) => `lat-${String(i).padStart(3, "0")}`;

interface Run {
  tmp: string;
  home: string;
  configFile: string;
  sessionsDir: string;
  sup?: Proc;
  worker?: Proc;
}

function fleetConfig(sessionsDir: string, extra: object = {}): string {
  return JSON.stringify({ sessionsDir, http: { listen: null }, ...extra });
}

/** Spawn -> "ready" and spawn -> "First scan done", in ms. */
interface StartTimes {
  readyMs: number;
  firstScanMs: number;
}

async function startFleet(run: Run, dist: string, label: string): Promise<StartTimes> {
  const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_CONFIG: run.configFile, WARDEN_HOME: run.home };
  for (const k of [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_ROOT",
    "LOG_LEVEL",
    "NODE_OPTIONS",
    "WARDEN_HTTP_TOKEN",
  ])
    delete env[k];
  const t0 = performance.now();
  run.sup = new Proc("supervisor", path.join(dist, "supervisor", "main.js"), env);
  await Promise.race([
    run.sup.ready,
    sleep(READY_TIMEOUT_MS).then(() => Promise.reject(new Error("supervisor not ready"))),
  ]);
  const readyMs = performance.now() - t0;
  console.log(`  ${label}: supervisor ready ${Math.round(readyMs)} ms after spawn`);
  run.sup.proc.send("loop-reset");
  const t1 = performance.now();
  run.worker = new Proc("worker", path.join(dist, "worker", "main.js"), {
    ...env,
    NODE_APP_INSTANCE: "0",
    WARDEN_DRIVER: "simulated",
  });
  try {
    await Promise.race([
      run.worker.ready,
      sleep(WORKER_READY_TIMEOUT_MS).then(() => Promise.reject(new Error("worker not ready"))),
    ]);
    console.log(`  ${label}: worker ready ${Math.round(performance.now() - t1)} ms after spawn`);
  } catch (err) {
    // Measured on without it: the figures then say "no worker reporting" in the notes above them.
    console.log(
      `  ${label}: WORKER FAILED, figures below are without workers: ${(err as Error).message.split("\n")[0]}`,
    );
    for (const line of run.worker.problems.slice(-3)) console.log(`    ${line}`);
  }
  const sup = run.sup;
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (sup.firstScanAt === undefined && !sup.exited && performance.now() < deadline) await sleep(50);
  const firstScanMs = (sup.firstScanAt ?? Number.POSITIVE_INFINITY) - t0;
  console.log(`  ${label}: first scan done ${Math.round(firstScanMs)} ms after spawn`);
  return { readyMs, firstScanMs };
}

async function stopFleet(run: Run, label: string): Promise<void> {
  await run.worker?.stop();
  await run.sup?.stop();
  for (const p of [run.sup, run.worker])
    if (p && p.problems.length > 0)
      console.log(`  ${label} ${p.name} warnings/errors:\n    ${p.problems.join("\n    ")}`);
  execFileSync("rm", ["-rf", "--", run.tmp]);
}

function newRun(sessionsDir: string, extraConfig: object = {}): Run {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "warden-fleet-run-"));
  const run: Run = {
    tmp,
    home: path.join(tmp, "home"),
    configFile: path.join(tmp, "config", "warden.json"),
    sessionsDir,
  };
  mkdirSync(run.home);
  mkdirSync(path.dirname(run.configFile));
  writeFileSync(run.configFile, fleetConfig(sessionsDir, extraConfig));
  return run;
}

async function benchOneK(dist: string): Promise<void> {
  const tree = await ensureFleetTree(1_000, FILES, undefined, console.log);
  const run = newRun(tree.sessionsDir);
  try {
    await startFleet(run, dist, "1k");
    const sup = run.sup as Proc;
    await sleep(SETTLE_MS);
    record("rss MB at 1k", sup.rssMb(), 100);
    await measureStorm(run, sup);
  } finally {
    await stopFleet(run, "1k");
  }
}

/** Every company crosses `warning` at one config edit: time until 1,000 alerts are in the log. */
async function measureStorm(run: Run, sup: Proc): Promise<void> {
  const before = sup.alertTimes.length;
  const t0 = Date.now();
  writeFileSync(
    run.configFile,
    fleetConfig(run.sessionsDir, {
      count: { basis: "counted" },
      preKeyReserve: 0,
      thresholds: { monitor: 100, warning: 150, critical: 250, fatal: 300 },
    }),
  );
  const deadline = t0 + STORM_TIMEOUT_S * 1000;
  while (sup.alertTimes.length - before < 1_000 && Date.now() < deadline) await sleep(100);
  const got = sup.alertTimes.length - before;
  const seconds = got >= 1_000 ? ((sup.alertTimes[before + 999] as number) - t0) / 1000 : undefined;
  console.log(
    `  storm: ${got} alerts in the log within ${seconds?.toFixed(1) ?? `>${STORM_TIMEOUT_S}`} s of the edit`,
  );
  record("log storm 1000 alerts s", seconds ?? Number.POSITIVE_INFINITY, 10, 1);
}

async function benchTenK(dist: string): Promise<void> {
  const tree = await ensureFleetTree(10_000, FILES, undefined, console.log);
  const creds = fleetCreds();
  for (let e = 0; e < EVENTS; e++) {
    const dir = path.join(tree.sessionsDir, latName(e));
    rmSync(dir, { recursive: true, force: true });
    writeFleetCompany(dir, LATENCY_FILES, creds);
  }
  const run = newRun(tree.sessionsDir);
  const companiesDir = path.join(path.dirname(run.configFile), "companies");
  mkdirSync(companiesDir);
  for (let e = 0; e < EVENTS; e++)
    writeFileSync(
      path.join(companiesDir, `${latName(e)}.json`),
      JSON.stringify({ count: { basis: "counted" }, preKeyReserve: 0 }),
    );
  try {
    timeFind(tree.sessionsDir);
    const findMs = Math.min(timeFind(tree.sessionsDir), timeFind(tree.sessionsDir));
    const { readyMs, firstScanMs } = await startFleet(run, dist, "10k");
    console.log(`  10k: find | wc -l ${Math.round(findMs)} ms`);
    record("ready-vs-find ratio at 10k", readyMs / findMs, 1.5, 2);
    // Ready means serving; every folder is counted later: shown beside it, with no target.
    console.log(
      `  10k: first-scan-vs-find ratio: ${(firstScanMs / findMs).toFixed(2)} (spawn -> "First scan done"; the worker starts at "ready", as under pm2)`,
    );
    const sup = run.sup as Proc;
    await sleep(SETTLE_MS);
    const cpu0 = sup.cpuSeconds();
    const wcpu0 = (run.worker as Proc).cpuSeconds();
    await sleep(IDLE_S * 1000);
    record("idle cpu % at 10k", ((sup.cpuSeconds() - cpu0) / IDLE_S) * 100, 2, 1);
    console.log(
      `  10k: worker cpu over the idle ${IDLE_S} s: ${((((run.worker as Proc).cpuSeconds() - wcpu0) / IDLE_S) * 100).toFixed(1)} % of a core`,
    );
    record("rss MB at 10k", sup.rssMb(), 300);
    await measureLatency(run, sup);
    const loop = (await sup.ask("loop-max")) as { loopMaxMs: number };
    record("longest loop block ms at 10k", loop.loopMaxMs, 50);
  } finally {
    await stopFleet(run, "10k");
    for (let e = 0; e < EVENTS; e++)
      rmSync(path.join(tree.sessionsDir, latName(e)), { recursive: true, force: true });
  }
}

async function measureLatency(run: Run, sup: Proc): Promise<void> {
  const db = new Database(databaseFile(run.home), { readonly: true, fileMustExist: true });
  const latencies: number[] = [];
  try {
    const since = db.prepare<[number], { id: number; created_at: number; company: string | null }>(
      "SELECT id, created_at, company FROM outbox WHERE id > ? ORDER BY id",
    );
    let lastId = (db.prepare("SELECT MAX(id) AS m FROM outbox").get() as { m: number | null }).m ?? 0;
    for (let e = 0; e < EVENTS; e++) {
      if (sup.exited) throw new Error("supervisor exited during the latency events");
      const company = latName(e);
      const created = Date.now();
      writeFileSync(path.join(run.sessionsDir, company, "session-5511900000000.0.json"), "{}");
      let found: number | undefined;
      while (found === undefined && Date.now() < created + EVENT_TIMEOUT_MS) {
        for (const row of since.all(lastId)) {
          lastId = Math.max(lastId, row.id);
          if (row.company === company) found = row.created_at;
        }
        if (found === undefined) await sleep(5);
      }
      latencies.push(found === undefined ? Number.POSITIVE_INFINITY : found - created);
    }
  } finally {
    db.close();
  }
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `  10k: file -> outbox over ${EVENTS} events: p50 ${percentile(sorted, 50)} ms, max ${sorted.at(-1)} ms`,
  );
  record("p99 file-to-outbox ms at 10k", percentile(sorted, 99), 650);
}

const ORDER = [
  "ready-vs-find ratio at 10k",
  "longest loop block ms at 10k",
  "idle cpu % at 10k",
  "rss MB at 1k",
  "rss MB at 10k",
  "p99 file-to-outbox ms at 10k",
  "log storm 1000 alerts s",
];

function printFigures(): void {
  for (const name of ORDER) {
    const f = figures.get(name);
    if (!f) continue;
    const shown =
      f.value === undefined || Number.isNaN(f.value)
        ? "n/a"
        : Number.isFinite(f.value)
          ? f.value.toFixed(f.digits)
          : "timeout";
    const pass = f.value !== undefined && Number.isFinite(f.value) && f.value <= f.target;
    console.log(`${name}: ${shown} (target <= ${f.target}) ${pass ? "PASS" : "FAIL"}`);
  }
}

const started = performance.now();
const buildRoot = mkdtempSync(path.join(os.tmpdir(), "warden-fleet-build-"));
let exitCode = 0;
try {
  console.log(
    `wa-warden bench:fleet (load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")})`,
  );
  console.log(
    `  node_args (ecosystem.config.cjs): supervisor ${JSON.stringify(ecosystemNodeArgs("warden-supervisor"))}, worker ${JSON.stringify(ecosystemNodeArgs("warden-worker"))}`,
  );
  const dist = build(buildRoot);
  if (SIZES.includes(1_000)) await benchOneK(dist);
  if (SIZES.includes(10_000)) await benchTenK(dist);
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  exitCode = 1;
} finally {
  rmSync(buildRoot, { recursive: true, force: true });
}
printFigures();
console.log(
  `  bench took ${Math.round((performance.now() - started) / 1000)} s (load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")})`,
);
process.exit(exitCode);
