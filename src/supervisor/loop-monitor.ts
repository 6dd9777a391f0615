/**
 * The supervisor's event-loop monitor: how long the loop was blocked, as the lateness of a 10 ms
 * timer (a block of B ms delays it by B less at most 10). A block of the loop delays every alert,
 * every bot reply and every file event at once, so a block over `warnAboveMs` is logged with its
 * length, at most once per `reportEveryMs`. `maxMs()` is the longest block since start or the last
 * `reset()` (the fleet benchmark asks for it over IPC).
 * Not perf_hooks' monitorEventLoopDelay: on Node 20.20 it misses blocks inside setImmediate
 * callbacks while other timers run (a 100 ms block read as 10 ms), and the scans, the ladder and
 * the alert delivery all yield with setImmediate. A timer's lateness cannot miss a block.
 */
import type { Logger } from "../logger.js";

/** Loop monitor settings. */
export interface LoopMonitorOptions {
  logger: Logger;
  /** A block longer than this is logged. Default 50 ms (the fleet's target at 10,000 companies). */
  warnAboveMs?: number;
  /** How often the window is looked at. Default 1 s. */
  reportEveryMs?: number;
}

/** A running loop monitor. */
export interface LoopMonitor {
  /** Longest block in ms since start or the last reset. */
  maxMs(): number;
  /** Starts a new measuring period for maxMs(). */
  reset(): void;
  /** Stops the timer. Idempotent. */
  close(): void;
}

/** The probe timer's period: a block is seen to within this. */
const RESOLUTION_MS = 10;

/** Starts monitoring the event loop of this process. */
export function createLoopMonitor(options: LoopMonitorOptions): LoopMonitor {
  const warnAboveMs = options.warnAboveMs ?? 50;
  const reportEveryMs = options.reportEveryMs ?? 1_000;
  let last = performance.now();
  let windowStart = last;
  /** Longest lateness in the current report window, and since the last reset. */
  let windowMs = 0;
  let longestMs = 0;
  let closed = false;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - RESOLUTION_MS;
    last = now;
    if (late > windowMs) windowMs = late;
    if (late > longestMs) longestMs = late;
    if (now - windowStart < reportEveryMs) return;
    windowStart = now;
    const ms = windowMs;
    windowMs = 0;
    if (ms > warnAboveMs)
      options.logger.warn(
        { kind: "event-loop-blocked", ms: Math.round(ms) },
        `Event loop blocked for ${Math.round(ms)} ms (alerts, bot replies and file events waited)`,
      );
  }, RESOLUTION_MS);
  timer.unref();
  return {
    maxMs: () => Math.max(0, longestMs),
    reset() {
      longestMs = 0;
      windowMs = 0;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
    },
  };
}
