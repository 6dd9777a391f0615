/**
 * Shared by the kill -9 trials (test/crash-safety.test.ts) and `npm run bench:cleanup`: a seeded
 * PRNG, folder copies, and the child that runs one action until it is killed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, statSync, utimesSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { setImmediate } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The child that runs one action (cleanup | backup | restore) on a company and prints "go" / "done <ms>". */
export const CRASH_FIXTURE = path.join(repoRoot, "test/fixtures/crash-action.ts");
const FIXTURE = CRASH_FIXTURE;
const COMPANY = "acme";

/**
 * How many kill -9 trials a test runs: `quick` in `npm test` (enough to cover every action on a
 * loaded 2-core machine within the suite's budget), `full` under `npm run bench:crash`, which sets
 * WARDEN_CRASH_TRIALS=full.
 */
export function trialCount(quick: number, full: number): number {
  return process.env.WARDEN_CRASH_TRIALS === "full" ? full : quick;
}

/** mulberry32: a small seeded PRNG, enough to replay the kill moments of a failed run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// Files copied between two event-loop turns (~1 ms of sync I/O): while one lane copies 1,500
// files, the other lane's kill timer still fires on time.
const BATCH = 32;

/** Copies a flat folder, keeping each file's mtime (the cleanup plan depends on it). */
export async function copyFolder(from: string, to: string): Promise<void> {
  mkdirSync(to, { recursive: true });
  let n = 0;
  for (const name of readdirSync(from)) {
    const target = path.join(to, name);
    copyFileSync(path.join(from, name), target);
    const st = statSync(path.join(from, name));
    utimesSync(target, st.atime, st.mtime);
    if (++n % BATCH === 0) await setImmediate();
  }
}

/** How a crash child ended. */
export interface ChildRun {
  /** The child printed "done": the action finished before any kill. */
  finished: boolean;
  actionMs: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the fixture; with `killAfterMs`, SIGKILLs it that long after its "go" line (the delay is
 * the randomness of the test, not a synchronisation). Resolves once the child has exited.
 */
export async function runCrashChild(
  action: string,
  trial: { env: NodeJS.ProcessEnv; label: string },
  killAfterMs: number | null,
): Promise<ChildRun> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", FIXTURE, action, COMPANY], {
    cwd: repoRoot,
    env: trial.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: ChildRun = { finished: false, actionMs: null, signal: null };
  let timer: NodeJS.Timeout | undefined;
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    if (line === "go" && killAfterMs !== null) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    const done = /^done (\d+)$/.exec(line);
    if (done) {
      run.finished = true;
      run.actionMs = Number(done[1]);
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once("close", (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  run.signal = signal;
  if (signal === null && code !== 0) {
    throw new Error(`${trial.label}: ${action} child exited with code ${code}: ${stderr.slice(-2_000)}`);
  }
  if (signal !== null && signal !== "SIGKILL") throw new Error(`${trial.label}: child died of ${signal}`);
  return run;
}
