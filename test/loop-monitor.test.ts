import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createLoopMonitor, type LoopMonitor } from "../src/supervisor/loop-monitor.js";
import { waitFor } from "./helpers/wait-for.js";

let monitor: LoopMonitor | undefined;
afterEach(() => monitor?.close());

function collectingLogger(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "debug" }, sink);
}

/** Keeps the event loop busy for `ms`. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: the loop cannot run timers
  }
}

describe("event-loop monitor", () => {
  it("reports a block longer than the limit with its length, and the longest since reset", async () => {
    const lines: Record<string, unknown>[] = [];
    monitor = createLoopMonitor({ logger: collectingLogger(lines), warnAboveMs: 100, reportEveryMs: 50 });
    // Let the probe timer run before blocking.
    let ticks = 0;
    await waitFor(() => ++ticks > 3, { intervalMs: 20 });
    block(250);
    const warned = await waitFor(() => lines.find((l) => l.kind === "event-loop-blocked"), {
      what: "blocked-loop warning",
    });
    expect(warned.ms as number).toBeGreaterThanOrEqual(200);
    expect(warned.msg).toMatch(/^Event loop blocked for \d+ ms/);
    expect(monitor.maxMs()).toBeGreaterThanOrEqual(200);
    monitor.reset();
    expect(monitor.maxMs()).toBeLessThan(200);
  });

  it("sees a block inside a setImmediate callback while other timers run (the yields of scans and passes)", async () => {
    const lines: Record<string, unknown>[] = [];
    monitor = createLoopMonitor({ logger: collectingLogger(lines), warnAboveMs: 60, reportEveryMs: 50 });
    // Another 10 ms timer beside the monitor's: with it, perf_hooks' histogram read this block as ~10 ms.
    const other = setInterval(() => undefined, 10);
    try {
      let ticks = 0;
      await waitFor(() => ++ticks > 3, { intervalMs: 20 });
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          block(120);
          resolve();
        }),
      );
      const warned = await waitFor(() => lines.find((l) => l.kind === "event-loop-blocked"), {
        what: "blocked-loop warning",
      });
      expect(warned.ms as number).toBeGreaterThanOrEqual(100);
      expect(monitor.maxMs()).toBeGreaterThanOrEqual(100);
    } finally {
      clearInterval(other);
    }
  });

  it("stays silent while the loop is free, and close() is idempotent", async () => {
    const lines: Record<string, unknown>[] = [];
    monitor = createLoopMonitor({ logger: collectingLogger(lines), warnAboveMs: 1_000, reportEveryMs: 20 });
    let ticks = 0;
    await waitFor(() => ++ticks > 10, { intervalMs: 20 });
    expect(lines.filter((l) => l.kind === "event-loop-blocked")).toEqual([]);
    monitor.close();
    monitor.close();
  });
});
