/**
 * One kill -9 trial of test/fixtures/auth-burst.ts, the writer that sets pre-keys in batches on a
 * database store and prints "ready", then "ack <first> <last> <counter>" for each batch committed.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { waitFor } from "./wait-for.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const BURST = path.join(repoRoot, "test", "fixtures", "auth-burst.ts");

/** What a killed writer had acknowledged, and the signal it ended with. */
export interface BurstKill {
  signal: NodeJS.Signals | null;
  /** The highest accountSyncCounter it acknowledged (-1: none). */
  counter: number;
}

/**
 * Starts the writer with `args` and `env` (added to this process's), waits for "ready", kills it
 * with SIGKILL after `killAfterMs`, and waits for it to exit. Every acknowledged pre-key id is added
 * to `acked`.
 */
export async function killAuthBurst(
  args: string[],
  env: Record<string, string>,
  killAfterMs: number,
  acked: Set<number>,
): Promise<BurstKill> {
  const child = spawn(process.execPath, ["--import", "tsx", BURST, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run = { ready: false, exited: false, signal: null as NodeJS.Signals | null, stderr: "", counter: -1 };
  child.stderr?.on("data", (c: Buffer) => {
    run.stderr += c.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    if (line === "ready") run.ready = true;
    const ack = /^ack (\d+) (\d+) (\d+)$/.exec(line);
    if (ack) {
      for (let id = Number(ack[1]); id <= Number(ack[2]); id++) acked.add(id);
      run.counter = Math.max(run.counter, Number(ack[3]));
    }
  });
  child.once("close", (_code, signal) => {
    run.exited = true;
    run.signal = signal;
  });
  await waitFor(() => run.ready || run.exited, { timeoutMs: 30_000, intervalMs: 5, what: "ready" });
  if (!run.ready) throw new Error(`auth-burst exited before ready: ${run.stderr}`);
  // The moment of the kill is the randomness of the trial; nothing waits on this delay.
  await delay(killAfterMs);
  child.kill("SIGKILL");
  await waitFor(() => run.exited, { timeoutMs: 10_000, intervalMs: 5, what: "child exit" });
  return { signal: run.signal, counter: run.counter };
}
