/**
 * libsignal (the one Baileys depends on) does not log through Baileys' logger: it writes with
 * `console.info/warn/error` (session_builder.js, session_record.js, session_cipher.js). Under a Bad
 * MAC storm that is one "Session error:" line with a stack per session tried, and every session
 * close prints the whole session object, ratchet keys included, into the pm2 log. The guard wraps
 * the console of the worker process once; a line written while a company's socket code runs (the
 * driver opens the socket inside `within(company, ...)`, and AsyncLocalStorage follows the socket's
 * callbacks) is classified, counted and swallowed.
 *
 * The guard fails closed: a session dump holds private keys, and a callback that lost its async
 * scope must not print one. Outside any company's scope a libsignal line, or any line carrying a
 * private key (a `privKey` / `privateKey` field), is swallowed too and counted as unscoped; inside
 * a scope such a line is swallowed and counted for the company. Any other line passes untouched.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ErrorCodes, WardenError } from "../errors.js";
import { type ConsoleMemory, classifyConsoleLine } from "./classify-signal.js";
import type { SignalRecorder } from "./signal-recorder.js";

/** The installed guard. */
export interface ConsoleGuard {
  /** Runs `fn` (and every callback it schedules) as `company`'s code. */
  within<T>(company: string, fn: () => T): T;
  /** Lines swallowed outside any company's scope (libsignal's, or holding a private key). */
  readonly unscopedSuppressed: number;
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
  let unscoped = 0;
  for (const method of METHODS) {
    const original = target[method] as (...args: unknown[]) => void;
    originals.set(method, original);
    target[method] = (...args: unknown[]) => {
      const company = scope.getStore();
      if (company === undefined) {
        if (classifyConsoleLine(args, {}) !== null || holdsPrivateKey(args)) {
          unscoped++;
          return;
        }
      } else {
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
        if (holdsPrivateKey(args)) {
          recorder.suppressed(company);
          return;
        }
      }
      original.apply(target, args);
    };
  }
  let closed = false;
  return {
    within: (company, fn) => scope.run(company, fn),
    get unscopedSuppressed() {
      return unscoped;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const [method, original] of originals) target[method] = original;
      holder[INSTALLED] = false;
    },
  };
}

/** Field names under which libsignal and Baileys keep private keys. */
const PRIVATE_FIELDS = new Set(["privKey", "privateKey", "private"]);
/** How many objects one line's arguments are searched (a session object is a few dozen). */
const SEARCH_LIMIT = 500;

/**
 * True when an argument holds a private key at any depth (a libsignal SessionEntry:
 * currentRatchet.ephemeralKeyPair.privKey). Bounded, cycle-safe, never calls getters of classes.
 */
export function holdsPrivateKey(args: readonly unknown[]): boolean {
  const seen = new Set<object>();
  const queue: unknown[] = [...args];
  while (queue.length > 0 && seen.size < SEARCH_LIMIT) {
    const value = queue.shift();
    if (value === null || typeof value !== "object" || seen.has(value)) continue;
    seen.add(value);
    if (ArrayBuffer.isView(value)) continue;
    for (const key of Object.keys(value)) {
      const inner = Object.getOwnPropertyDescriptor(value, key)?.value;
      if (PRIVATE_FIELDS.has(key) && isKeyMaterial(inner)) return true;
      if (inner !== null && typeof inner === "object") queue.push(inner);
    }
  }
  return false;
}

/** Bytes, or a string long enough to be an encoded key (not a flag such as `private: true`). */
function isKeyMaterial(value: unknown): boolean {
  if (ArrayBuffer.isView(value)) return value.byteLength > 0;
  if (value !== null && typeof value === "object" && "type" in value && "data" in value) return true; // Buffer.toJSON
  return typeof value === "string" && value.length >= 16;
}
