/**
 * libsignal (the one Baileys depends on) does not log through Baileys' logger: it writes with
 * `console.info/warn/error` (session_builder.js, session_record.js, session_cipher.js). Under a Bad
 * MAC storm that is one "Session error:" line with a stack per session tried, and every session
 * close prints the whole session object, ratchet keys included, into the pm2 log. The guard wraps
 * the console of the worker process once; a line written while a company's socket code runs (the
 * driver opens the socket inside `within(company, ...)`, and AsyncLocalStorage follows the socket's
 * callbacks) is classified, counted and swallowed. Any other line passes through untouched.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ErrorCodes, WardenError } from "../errors.js";
import { type ConsoleMemory, classifyConsoleLine } from "./classify-signal.js";
import type { SignalRecorder } from "./signal-recorder.js";

/** The installed guard. */
export interface ConsoleGuard {
  /** Runs `fn` (and every callback it schedules) as `company`'s code. */
  within<T>(company: string, fn: () => T): T;
  /** Puts the console methods back. Idempotent. */
  close(): void;
}

const METHODS = ["log", "info", "warn", "error"] as const;
type Method = (typeof METHODS)[number];
const INSTALLED = Symbol.for("wa-warden.console-guard");

/**
 * Installs the guard on `target` (the process console by default). A second install on the same
 * console is refused: two wrappers would count every line twice.
 */
export function installConsoleGuard(recorder: SignalRecorder, target: Console = console): ConsoleGuard {
  const holder = target as unknown as Record<symbol, boolean>;
  if (holder[INSTALLED])
    throw new WardenError(
      ErrorCodes.SIGNALS_GUARD_TWICE,
      "The signal console guard is already installed on this console",
    );
  holder[INSTALLED] = true;
  const scope = new AsyncLocalStorage<string>();
  const memories = new Map<string, ConsoleMemory>();
  const originals = new Map<Method, (...args: unknown[]) => void>();
  for (const method of METHODS) {
    const original = target[method] as (...args: unknown[]) => void;
    originals.set(method, original);
    target[method] = (...args: unknown[]) => {
      const company = scope.getStore();
      if (company !== undefined) {
        let memory = memories.get(company);
        if (!memory) {
          memory = {};
          memories.set(company, memory);
        }
        const classified = classifyConsoleLine(args, memory);
        if (classified === "swallow") {
          recorder.suppressed(company);
          return;
        }
        if (classified) {
          recorder.record(company, classified.signal);
          if (classified.suppress) {
            recorder.suppressed(company);
            return;
          }
        }
      }
      original.apply(target, args);
    };
  }
  let closed = false;
  return {
    within: (company, fn) => scope.run(company, fn),
    close() {
      if (closed) return;
      closed = true;
      for (const [method, original] of originals) target[method] = original;
      holder[INSTALLED] = false;
    },
  };
}
