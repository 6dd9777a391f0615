/**
 * The supervisor's event-loop monitor: how long the loop was blocked (perf_hooks'
 * monitorEventLoopDelay, 10 ms resolution). A block of the loop delays every alert, every bot
 * reply and every file event at once, so a block over `warnAboveMs` is logged with its length,
 * at most once per `reportEveryMs`. `maxMs()` is the longest block since start or the last
 * `reset()` (the fleet benchmark asks for it over IPC).
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
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
  /** Stops the histogram and the timer. Idempotent. */
  close(): void;
}

const NS_PER_MS = 1e6;

/** Starts monitoring the event loop of this process. */
export function createLoopMonitor(options: LoopMonitorOptions): LoopMonitor {
  const warnAboveMs = options.warnAboveMs ?? 50;
  const window: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  window.enable();
  let longestMs = 0;
  let closed = false;
  const timer = setInterval(() => {
    // The histogram's max is the longest delay of a 10 ms timer: a block of that length.
    const ms = window.max / NS_PER_MS;
    window.reset();
    if (!Number.isFinite(ms) || ms <= 0) return;
    longestMs = Math.max(longestMs, ms);
    if (ms > warnAboveMs)
      options.logger.warn(
        { kind: "event-loop-blocked", ms: Math.round(ms) },
        `Event loop blocked for ${Math.round(ms)} ms (alerts, bot replies and file events waited)`,
      );
  }, options.reportEveryMs ?? 1_000);
  timer.unref();
  return {
    maxMs: () => Math.max(longestMs, window.max > 0 ? window.max / NS_PER_MS : 0),
    reset() {
      longestMs = 0;
      window.reset();
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      window.disable();
    },
  };
}
