/**
 * The logger a worker hands to Baileys: every call is classified first, whatever its level (Baileys
 * logs retry receipts at info, below the worker's "warn" Baileys level), signals go to the sink,
 * and decrypt-failure lines (each with a stack trace) are kept out of the log: the recorder writes
 * one summary per company per minute instead (invariant 22; Baileys issue 2234).
 */
import type { Logger } from "../logger.js";
import { classifyLogRecord } from "./classify-signal.js";
import type { SignalRecorder } from "./signal-recorder.js";

/** Baileys' ILogger (`Utils/logger.d.ts`). */
export interface BaileysLogger {
  level: string;
  child(obj: Record<string, unknown>): BaileysLogger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

type Level = "trace" | "debug" | "info" | "warn" | "error";
const LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error"];

/** Wraps `inner` (a pino logger) so `company`'s signals are counted and floods suppressed. */
export function wrapBaileysLogger(inner: Logger, company: string, recorder: SignalRecorder): BaileysLogger {
  const wrapped = {
    get level() {
      return inner.level;
    },
    set level(level: string) {
      inner.level = level;
    },
    child(obj: Record<string, unknown>) {
      return wrapBaileysLogger(inner.child(obj), company, recorder);
    },
  } as BaileysLogger;
  for (const level of LEVELS) {
    wrapped[level] = (obj: unknown, msg?: string) => {
      // Baileys always passes (obj, msg) for the lines that matter; a bare string has no signal.
      const classified = msg === undefined ? null : classifyLogRecord(obj, msg);
      if (classified) {
        recorder.record(company, classified.signal);
        if (classified.suppress) {
          recorder.suppressed(company);
          return;
        }
      }
      (inner[level] as (o: unknown, m?: string) => void).call(inner, obj, msg);
    };
  }
  return wrapped;
}
