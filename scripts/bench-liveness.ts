/**
 * `npm run bench:liveness`: what liveness costs per minute at fleet sizes.
 * 1. The pure detector (detectDeaf) over every company, the work done per company per check.
 * 2. One minute of the worker's liveness work through the recorder on a real SQLite file: one
 *    message per company, the per-minute rhythm lookup (judge) and the writes (flush: bucket, gap,
 *    state row), in one transaction as the heartbeat does it.
 * LIVENESS_BENCH_SIZES (default "1000,10000") sets the fleet sizes; LIVENESS_BENCH_STORE_MAX
 * (default 1000) caps the store part so the bench stays quick on a shared machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { detectDeaf } from "../src/liveness/detect-deaf.js";
import { LivenessRecorder } from "../src/liveness/liveness-recorder.js";
import { openStore } from "../src/store/store.js";
import { positiveInt } from "./bench-env.js";

const sizes = (process.env.LIVENESS_BENCH_SIZES ?? "1000,10000").split(",").map((s) => Number(s.trim()));
const storeMax = positiveInt("LIVENESS_BENCH_STORE_MAX", 1_000);
const SETTINGS = { silentAfter: 30 * 60_000, gapFactor: 3, queryTimeout: 10_000 };

for (const n of sizes) {
  const now = Date.now();
  const inputs = Array.from({ length: n }, (_, i) => ({
    openedAt: now - 3_600_000,
    lastInboundAt: now - (i % 90) * 60_000,
    hadInbound: i % 10 !== 0,
    usualGapMs: (i % 30) * 60_000,
    settings: SETTINGS,
    lastPing: null,
  }));
  const rounds = 20;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const input of inputs) detectDeaf(input, now);
  const ms = (performance.now() - t0) / rounds;
  console.log(
    `detector  ${String(n).padStart(6)} companies: ${ms.toFixed(2)} ms per check (${((ms * 1e6) / n).toFixed(0)} ns per company)`,
  );
  if (n > storeMax) {
    console.log(
      `recorder  ${String(n).padStart(6)} companies: skipped (LIVENESS_BENCH_STORE_MAX=${storeMax})`,
    );
    continue;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "warden-bench-liveness-"));
  try {
    const store = openStore(path.join(dir, "warden.db"));
    let at = now;
    const clock = { now: () => at };
    const recorder = new LivenessRecorder({
      liveness: store.liveness,
      clock,
      logger: pino({ level: "silent" }),
      monotonic: () => at,
    });
    const ids = Array.from({ length: n }, (_, i) => `company-${i}`);
    for (const id of ids) recorder.opened(id);
    const minutes = 5;
    const t1 = performance.now();
    for (let m = 1; m <= minutes; m++) {
      at = now + m * 60_000;
      store.transaction(() => {
        for (const id of ids) recorder.event(id, { kind: "inbound" });
        for (const id of ids) recorder.judge(id, SETTINGS);
        recorder.flush();
      });
    }
    const perMinute = (performance.now() - t1) / minutes;
    console.log(
      `recorder  ${String(n).padStart(6)} companies: ${perMinute.toFixed(1)} ms per minute of liveness work (${((perMinute * 1000) / n).toFixed(1)} µs per company)`,
    );
    recorder.close();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
