/**
 * `npm run bench:scan`: the fleet-watch figures on a generated sessions tree.
 *
 * 1. Generates (under os.tmpdir(), removed at the end) BENCH_COMPANIES (1,000) company folders of
 *    BENCH_FILES (200) Baileys-like files each, plus BENCH_EVENTS (200) "latency" folders of 119 files.
 * 2. Times a full scan by the project's FleetScanner (watch: false, fresh scanner per run, as the
 *    supervisor's first scan) against `find <dir> -type f | wc -l`: one warm-up, median of 3. Then
 *    the same scan with the stale count of every folder (the scanner stats the age-ruled
 *    files, countSnapshot judges them) against `find <dir> -type f -printf '%T@\n' | wc -l`, which
 *    stats every file: the "stale-scan-vs-find-stat ratio".
 * 3. Starts the real supervisor in a child process (built with tsc into the temp dir and started with
 *    its app's node_args from ecosystem.config.cjs, as pm2 runs it; BENCH_RUNNER=tsx runs
 *    src/supervisor/main.ts through tsx instead) and reads its RSS.
 * 4. Adds one file to each latency folder in turn (119 -> 120 counted files = the monitor threshold
 *    with preKeyReserve 0) and measures file creation -> outbox row (its created_at).
 * Prints the figures against the targets; PASS/FAIL does not change the exit status (1 only when a
 * figure could not be measured at all). On a slow or throttled disk, TMPDIR=/dev/shm halves the run time
 * (generating and deleting 200k files is most of it).
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
import pino from "pino";
import { countSnapshot } from "../src/actions/cleanup/count-stale.js";
import { systemClock } from "../src/clock.js";
import { companyDefaultsSchema } from "../src/config/schema.js";
import { FleetScanner, type ScannerReport } from "../src/fleet/fleet-scanner.js";
import { resolveKeepPreKeys } from "../src/fleet/prekey-reserve.js";
import { databaseFile } from "../src/home-layout.js";
import { ecosystemNodeArgs, positiveInt } from "./bench-env.js";
import { fleetFileName } from "./fleet-tree.js";

const repoRoot = path.resolve(import.meta.dirname, "..");

const COMPANIES = positiveInt("BENCH_COMPANIES", 1_000);
const FILES = positiveInt("BENCH_FILES", 200);
const EVENTS = positiveInt("BENCH_EVENTS", 200);
const RUNNER = process.env.BENCH_RUNNER === "tsx" ? "tsx" : "dist";
/** Default thresholds.monitor is 120, preKeyReserve 0 and count.basis "counted": one more file crosses it. */
const MONITOR = 120;
const LATENCY_FOLDER_FILES = MONITOR - 1;
const EVENT_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 120_000;
const SETTLE_MS = 4_000;
const STOP_TIMEOUT_MS = 15_000;
const POLL_MS = 5;

const TARGET_RATIO = 1.5;
/** The stale scan against `find -printf '%T@'` (which stats every file): the fleet's ≤ 1.2. */
const TARGET_STALE_RATIO = 1.2;
const TARGET_RSS_MB = 150;
const TARGET_P99_MS = 2_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Tree generation

const CREDS = JSON.stringify({
  noiseKey: { private: { type: "Buffer", data: "AAAA" }, public: { type: "Buffer", data: "AAAA" } },
  signedIdentityKey: { private: { type: "Buffer", data: "AAAA" }, public: { type: "Buffer", data: "AAAA" } },
  signedPreKey: { keyPair: {}, signature: { type: "Buffer", data: "AAAA" }, keyId: 1 },
  registrationId: 4242,
  advSecretKey: "AAAA",
  nextPreKeyId: 31,
  firstUnuploadedPreKeyId: 31,
  accountSyncCounter: 0,
  me: { id: "5511999990000:1@s.whatsapp.net", name: "bench" },
});

const phone = (i: number) => `55119${String(10_000_000 + i).padStart(8, "0")}`;

/** A company folder with `files` files (creds.json included). */
function writeCompany(dir: string, files: number): void {
  mkdirSync(dir);
  writeFileSync(path.join(dir, "creds.json"), CREDS);
  for (let i = 1; i < files; i++) writeFileSync(path.join(dir, fleetFileName(i)), "{}");
}

const companyName = (i: number) => `company-${String(i).padStart(4, "0")}`;
const latencyName = (i: number) => `lat-${String(i).padStart(3, "0")}`;

// ---------------------------------------------------------------------------------------------
// Measurements

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

const silentLogger = pino({ level: "silent" });

interface ScanRun {
  ms: number;
  companies: number;
  files: number;
  stale: number;
  reports: ScannerReport[];
}

/** The default company settings (count.basis "stale", keepPreKeys "auto"), as the supervisor has them. */
const DEFAULT_SETTINGS = companyDefaultsSchema.parse({});
const PRE_KEY_FLOOR = resolveKeepPreKeys(DEFAULT_SETTINGS.cleanup.keepPreKeys);

/**
 * One full scan by a fresh FleetScanner, the way the supervisor's start() runs its first one;
 * `judge`: each snapshot's live / stale count too, as the supervisor's onSnapshots does.
 */
async function timeFullScan(sessionsDir: string, judge = false): Promise<ScanRun> {
  let companies = 0;
  let files = 0;
  let stale = 0;
  const reports: ScannerReport[] = [];
  const scanner = new FleetScanner({
    preKeyFloor: () => PRE_KEY_FLOOR,
    sessionsDir,
    debounceMs: 200,
    reconcileEveryMs: 3_600_000,
    logger: silentLogger,
    clock: systemClock,
    watch: false,
    onSnapshots: (snapshots) => {
      companies += snapshots.length;
      const now = Date.now();
      for (const s of snapshots) {
        files += s.total;
        if (judge) stale += countSnapshot(s, DEFAULT_SETTINGS, now).stale;
      }
    },
    onRemoved: () => undefined,
    onReport: (report) => reports.push(report),
  });
  const t0 = performance.now();
  await scanner.start();
  const ms = performance.now() - t0;
  await scanner.close();
  return { ms, companies, files, stale, reports };
}

function timeFind(dir: string, stat = false): { ms: number; files: number } {
  const t0 = performance.now();
  const command = stat ? "find \"$1\" -type f -printf '%T@\\n' | wc -l" : 'find "$1" -type f | wc -l';
  const out = execFileSync("bash", ["-c", command, "bench", dir], { encoding: "utf8" });
  return { ms: performance.now() - t0, files: Number(out.trim()) };
}

function readStatus(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
    return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Supervisor child

interface LogLine {
  level?: number;
  msg?: string;
  alert?: { level?: string };
  [key: string]: unknown;
}

class SupervisorChild {
  readonly proc: ChildProcess;
  readonly tail: string[] = [];
  readonly problems: string[] = [];
  lines = 0;
  alertsLogged = 0;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exit: Promise<void>;
  private readyResolve: (() => void) | undefined;

  constructor(command: string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, command, {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.exit = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
    createInterface({ input: this.proc.stdout as NodeJS.ReadableStream }).on("line", (line) =>
      this.onLine(line),
    );
    createInterface({ input: this.proc.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      this.keep(`[stderr] ${line}`);
      if (this.problems.length < 20) this.problems.push(`[stderr] ${line}`);
    });
  }

  /**
   * Resolves on the "First scan done" line (pm2's "ready" comes earlier: once the supervisor
   * serves); rejects if the child exits.
   */
  ready(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
      this.readyResolve = () => {
        clearTimeout(timer);
        resolve();
      };
      void this.exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`supervisor exited before ready (${this.exitText()})`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. Returns how it went. */
  async stop(timeoutMs: number): Promise<string> {
    if (this.exited) return `already exited (${this.exitText()})`;
    const t0 = performance.now();
    this.proc.kill("SIGTERM");
    const timedOut = await Promise.race([this.exit.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (!timedOut)
      return `exited ${Math.round(performance.now() - t0)} ms after SIGTERM (${this.exitText()})`;
    this.proc.kill("SIGKILL");
    await this.exit;
    return `did NOT exit within ${timeoutMs} ms of SIGTERM; killed with SIGKILL`;
  }

  /** "code N, signal S" of the exit (or "running"). */
  exitText(): string {
    const exited = this.exited;
    return exited ? `code ${exited.code}, signal ${exited.signal}` : "running";
  }

  private onLine(line: string): void {
    this.lines++;
    this.keep(line);
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    if (parsed.alert) this.alertsLogged++;
    else if ((parsed.level ?? 0) >= 40 && this.problems.length < 20) this.problems.push(line);
    if (parsed.msg === "First scan done") this.readyResolve?.();
  }

  private keep(line: string): void {
    this.tail.push(line.length > 400 ? `${line.slice(0, 400)}...` : line);
    if (this.tail.length > 30) this.tail.shift();
  }
}

/** The command that runs the supervisor: a tsc build in the temp dir (as pm2 runs it), or tsx. */
function supervisorCommand(buildRoot: string): string[] {
  if (RUNNER === "tsx") return ["--import", "tsx", path.join(repoRoot, "src", "supervisor", "main.ts")];
  const outDir = path.join(buildRoot, "dist");
  mkdirSync(buildRoot, { recursive: true });
  writeFileSync(path.join(buildRoot, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(buildRoot, "node_modules"), "dir");
  const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc");
  try {
    execFileSync(tsc, ["-p", path.join(repoRoot, "tsconfig.build.json"), "--outDir", outDir], {
      cwd: repoRoot,
      encoding: "utf8",
      stdio: "pipe",
    });
  } catch (err) {
    // Type errors still emit; only a missing output is fatal.
    const out = String((err as { stdout?: string }).stdout ?? (err as Error).message);
    console.log(
      `  (tsc reported errors; using its output anyway)\n${out.split("\n").slice(0, 10).join("\n")}`,
    );
  }
  const main = path.join(outDir, "supervisor", "main.js");
  if (!existsSync(main)) throw new Error(`tsc did not produce ${main}`);
  // With the app's node_args (ecosystem.config.cjs), as pm2 starts it.
  return [...ecosystemNodeArgs("warden-supervisor"), main];
}

// ---------------------------------------------------------------------------------------------

interface Results {
  ratio?: number;
  staleRatio?: number;
  rssMb?: number;
  p99?: number;
}

let tmpRoot: string | undefined;
let child: SupervisorChild | undefined;

async function cleanup(): Promise<void> {
  if (child && !child.exited) {
    child.proc.kill("SIGKILL");
    await child.exit;
  }
  if (tmpRoot) {
    const t0 = performance.now();
    try {
      // rm -rf is several times faster than rmSync on 200k files.
      execFileSync("rm", ["-rf", "--", tmpRoot], { stdio: "ignore" });
    } catch {
      rmSync(tmpRoot, { recursive: true, force: true });
    }
    console.log(`  removed ${tmpRoot} in ${Math.round(performance.now() - t0)} ms`);
    tmpRoot = undefined;
  }
}

const results: Results = {};

async function main(): Promise<void> {
  tmpRoot = mkdtempSync(path.join(os.tmpdir(), "warden-bench-"));
  const sessionsDir = path.join(tmpRoot, "sessions");
  const home = path.join(tmpRoot, "home");
  const configFile = path.join(tmpRoot, "config", "warden.json");
  mkdirSync(sessionsDir);
  mkdirSync(home);
  mkdirSync(path.dirname(configFile));

  console.log(`wa-warden bench: ${COMPANIES} companies x ${FILES} files under ${tmpRoot}`);
  const t0 = performance.now();
  for (let c = 0; c < COMPANIES; c++) writeCompany(path.join(sessionsDir, companyName(c)), FILES);
  console.log(`  generated ${COMPANIES * FILES} files in ${Math.round(performance.now() - t0)} ms`);

  await measureScanVsFind(sessionsDir);
  await measureStaleScanVsFind(sessionsDir);
  addLatencyFolders(sessionsDir, configFile);
  const sup = await startSupervisor(configFile, home);
  const pid = sup.proc.pid as number;
  await measureRss(sup);
  await measureLatency(sup, home, sessionsDir);

  const after = readStatus(pid);
  if (after) console.log(`  supervisor RSS after the latency events: ${Math.round(after.rssKb / 1024)} MB`);
  const stopped = await sup.stop(STOP_TIMEOUT_MS);
  console.log(`  supervisor ${stopped}`);
  console.log(`  supervisor log: ${sup.lines} lines, ${sup.alertsLogged} alerts delivered to the log`);
  if (sup.problems.length > 0)
    console.log(`  warnings/errors in its log:\n    ${sup.problems.join("\n    ")}`);
}

/** Scan vs find, on the 1,000 x 200 tree alone. */
async function measureScanVsFind(sessionsDir: string): Promise<void> {
  await timeFullScan(sessionsDir);
  timeFind(sessionsDir);
  const scans: ScanRun[] = [];
  const finds: { ms: number; files: number }[] = [];
  for (let run = 0; run < 3; run++) {
    scans.push(await timeFullScan(sessionsDir));
    finds.push(timeFind(sessionsDir));
  }
  const scanMs = median(scans.map((s) => s.ms));
  const findMs = median(finds.map((f) => f.ms));
  const last = scans.at(-1) as ScanRun;
  console.log(`full scan: ${last.companies} companies, ${last.files} files in ${Math.round(scanMs)} ms`);
  console.log(`find -type f | wc -l: ${Math.round(findMs)} ms`);
  results.ratio = scanMs / findMs;
  console.log(`scan-vs-find ratio: ${results.ratio.toFixed(2)}`);
  console.log(
    `  (median of 3 after a warm-up; scan runs ${scans.map((s) => Math.round(s.ms)).join("/")} ms, find runs ${finds.map((f) => Math.round(f.ms)).join("/")} ms, best-vs-best ratio ${(Math.min(...scans.map((s) => s.ms)) / Math.min(...finds.map((f) => f.ms))).toFixed(2)}, find counted ${finds.at(-1)?.files} files)`,
  );
  if (last.companies !== COMPANIES || last.files !== COMPANIES * FILES)
    console.log(`  WARNING: expected ${COMPANIES} companies and ${COMPANIES * FILES} files`);
  if (last.reports.length > 0) console.log(`  scanner reports: ${JSON.stringify(last.reports.slice(0, 3))}`);
}

/** The same scan judging live / stale, against a find that stats every file. */
async function measureStaleScanVsFind(sessionsDir: string): Promise<void> {
  await timeFullScan(sessionsDir, true);
  timeFind(sessionsDir, true);
  const staleScans: ScanRun[] = [];
  const statFinds: { ms: number; files: number }[] = [];
  for (let run = 0; run < 3; run++) {
    staleScans.push(await timeFullScan(sessionsDir, true));
    statFinds.push(timeFind(sessionsDir, true));
  }
  const staleMs = median(staleScans.map((s) => s.ms));
  const statFindMs = median(statFinds.map((f) => f.ms));
  console.log(
    `stale scan: ${staleScans.at(-1)?.files} files, ${staleScans.at(-1)?.stale} stale, in ${Math.round(staleMs)} ms`,
  );
  console.log(`find -type f -printf '%T@\\n' | wc -l: ${Math.round(statFindMs)} ms`);
  results.staleRatio = staleMs / statFindMs;
  console.log(`stale-scan-vs-find-stat ratio: ${results.staleRatio.toFixed(2)}`);
  console.log(
    `  (median of 3 after a warm-up; runs ${staleScans.map((s) => Math.round(s.ms)).join("/")} ms vs ${statFinds.map((f) => Math.round(f.ms)).join("/")} ms)`,
  );
}

/** The latency folders beside the tree, and the supervisor's config over the whole of it. */
function addLatencyFolders(sessionsDir: string, configFile: string): void {
  const t0 = performance.now();
  for (let e = 0; e < EVENTS; e++) writeCompany(path.join(sessionsDir, latencyName(e)), LATENCY_FOLDER_FILES);
  console.log(
    `  added ${EVENTS} latency folders x ${LATENCY_FOLDER_FILES} files in ${Math.round(performance.now() - t0)} ms; the supervisor watches ${COMPANIES + EVENTS} companies`,
  );
  writeFileSync(
    configFile,
    // basis "counted": the latency files are fresh (never stale); the 120th one must cross monitor.
    JSON.stringify({
      sessionsDir,
      scan: { reconcileEvery: "60s", debounce: "200ms" },
      preKeyReserve: 0,
      count: { basis: "counted" },
    }),
  );
}

/** Spawns the supervisor over the tree and waits for its "ready". */
async function startSupervisor(configFile: string, home: string): Promise<SupervisorChild> {
  let t0 = performance.now();
  const command = supervisorCommand(path.join(tmpRoot as string, "build"));
  console.log(
    `  supervisor runner: ${RUNNER === "tsx" ? "node --import tsx src/supervisor/main.ts" : `tsc build + node dist/supervisor/main.js (built in ${Math.round(performance.now() - t0)} ms)`}`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_CONFIG: configFile, WARDEN_HOME: home };
  delete env.TELEGRAM_BOT_TOKEN;
  delete env.TELEGRAM_API_ROOT;
  delete env.LOG_LEVEL;
  delete env.NODE_OPTIONS;

  t0 = performance.now();
  const sup = new SupervisorChild(command, env);
  child = sup;
  try {
    await sup.ready(READY_TIMEOUT_MS);
  } catch (err) {
    console.log(`  supervisor failed to start: ${(err as Error).message}`);
    console.log(`  last log lines:\n    ${sup.tail.join("\n    ")}`);
    throw err;
  }
  console.log(`  supervisor pid ${sup.proc.pid} ready ${Math.round(performance.now() - t0)} ms after spawn`);
  return sup;
}

/** The supervisor's RSS once settled. */
async function measureRss(sup: SupervisorChild): Promise<void> {
  const pid = sup.proc.pid as number;
  await sleep(SETTLE_MS);
  const status = readStatus(pid);
  if (status && Number.isFinite(status.rssKb)) {
    results.rssMb = status.rssKb / 1024;
    console.log(`supervisor RSS (${COMPANIES + EVENTS} companies watched): ${Math.round(results.rssMb)} MB`);
    console.log(
      `  (${COMPANIES} x ${FILES} files + ${EVENTS} latency folders x ${LATENCY_FOLDER_FILES}; read ${SETTLE_MS / 1000} s after ready; peak VmHWM ${Math.round(status.hwmKb / 1024)} MB)`,
    );
  } else {
    console.log(`supervisor RSS: not measured (/proc/${pid}/status unreadable; exited: ${sup.exitText()})`);
  }
}

/** Latency: one file at a time, file creation -> outbox row. */
async function measureLatency(sup: SupervisorChild, home: string, sessionsDir: string): Promise<void> {
  const dbFile = databaseFile(home);
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  const latencies: number[] = [];
  const detections: number[] = [];
  let misses = 0;
  try {
    const maxId = db.prepare<[], { m: number | null }>("SELECT MAX(id) AS m FROM outbox");
    const since = db.prepare<
      [number],
      { id: number; created_at: number; company: string | null; kind: string }
    >("SELECT id, created_at, company, kind FROM outbox WHERE id > ? ORDER BY id");
    let lastId = maxId.get()?.m ?? 0;
    console.log(`  outbox rows before the latency events: ${lastId}`);
    for (let e = 0; e < EVENTS; e++) {
      if (sup.exited) throw new Error(`supervisor exited during the latency events: ${sup.exitText()}`);
      const company = latencyName(e);
      const file = path.join(sessionsDir, company, `session-${phone(900_000 + e)}.0.json`);
      const created = Date.now();
      writeFileSync(file, "{}");
      const deadline = created + EVENT_TIMEOUT_MS;
      let found: { created_at: number } | undefined;
      while (!found && Date.now() < deadline) {
        for (const row of since.all(lastId)) {
          lastId = Math.max(lastId, row.id);
          if (row.company === company) found = row;
        }
        if (!found) await sleep(POLL_MS);
      }
      if (found) {
        latencies.push(found.created_at - created);
        detections.push(Date.now() - created);
      } else {
        misses++;
        latencies.push(Number.POSITIVE_INFINITY);
      }
    }
  } finally {
    db.close();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const fmt = (ms: number) => (Number.isFinite(ms) ? String(Math.round(ms)) : `>${EVENT_TIMEOUT_MS}`);
  const p50 = percentile(sorted, 50);
  results.p99 = percentile(sorted, 99);
  console.log(
    `file-created-to-outbox latency over ${EVENTS} events: p50 ${fmt(p50)} ms, p99 ${fmt(results.p99)} ms`,
  );
  const det = [...detections].sort((a, b) => a - b);
  console.log(
    `  (outbox created_at - file creation; max ${fmt(sorted.at(-1) ?? Number.NaN)} ms, ${misses} event(s) without a row within ${EVENT_TIMEOUT_MS} ms; seen by the poller: p50 ${fmt(percentile(det, 50))} ms, p99 ${fmt(percentile(det, 99))} ms)`,
  );
}

function printTargets(): void {
  const verdict = (value: number | undefined, max: number) =>
    value !== undefined && Number.isFinite(value) && value <= max ? "PASS" : "FAIL";
  const show = (value: number | undefined, digits: number) =>
    value === undefined ? "n/a" : Number.isFinite(value) ? value.toFixed(digits) : "timeout";
  console.log(
    `targets: ratio <= ${TARGET_RATIO}, stale-scan-vs-find-stat ratio <= ${TARGET_STALE_RATIO}, RSS <= ${TARGET_RSS_MB} MB, p99 <= ${TARGET_P99_MS} ms`,
  );
  console.log(`  ratio ${show(results.ratio, 2)}: ${verdict(results.ratio, TARGET_RATIO)}`);
  console.log(
    `  stale-scan-vs-find-stat ratio ${show(results.staleRatio, 2)}: ${verdict(results.staleRatio, TARGET_STALE_RATIO)}`,
  );
  console.log(`  RSS ${show(results.rssMb, 0)} MB: ${verdict(results.rssMb, TARGET_RSS_MB)}`);
  console.log(`  p99 ${show(results.p99, 0)} ms: ${verdict(results.p99, TARGET_P99_MS)}`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

const started = performance.now();
let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
printTargets();
console.log(`  bench took ${Math.round((performance.now() - started) / 1000)} s`);
process.exit(exitCode);
