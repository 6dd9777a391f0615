/**
 * The hold a destructive action (cleanup, reset, restore) takes on a company: the company's lease,
 * under an `action:` holder. A worker opens a socket only while it holds the lease (invariant 8),
 * so while an action holds it no socket can write into the folder, and two actions on one company
 * exclude each other. The hold is refused while a worker holds the lease (the company is
 * connected, or reconnecting) unless the caller first stops it through the worker: the ladder's
 * own stop, or the CLI's `--stop`.
 */
import { randomBytes } from "node:crypto";
import { wardenCommand } from "../cli-invocation.js";
import type { Clock } from "../clock.js";
import { ErrorCodes, WardenError } from "../errors.js";
import { isProcessAlive } from "../process-alive.js";
import type { Store } from "../store/store.js";
import { DEFAULT_ACTION_LIMITS } from "./action-context.js";
import { awaitControlRequest } from "./await-control-request.js";

/** A hold in force; `release` is idempotent. */
export interface CompanyHold {
  readonly company: string;
  readonly holder: string;
  /** Extends the hold (call on progress during long work); false when it was lost. */
  renew(): boolean;
  /** Ends the hold; with `resume`, the company is wanted running again (the worker reconnects). */
  release(reason: string, options?: { resume?: boolean }): void;
}

/** Inputs of holdCompany. */
export interface HoldOptions {
  store: Store;
  clock: Clock;
  company: string;
  /** Who acts: "ladder", "cli:alice", "bot:123". */
  actor: string;
  /** The hold lasts this long without renewal (a crashed action frees the company after it). */
  ttlMs?: number;
  /** Stop the company through its worker first (waits for the acknowledgement). */
  stopFirst?: boolean;
  /** How long to wait for the worker to acknowledge the stop. */
  stopTimeoutMs?: number;
  /** How long to wait between two looks at the request (real time). */
  pollMs?: number;
  /** Gives up waiting for the stop (the caller is shutting down); the request is withdrawn if not picked. */
  signal?: AbortSignal;
}

/** Takes the company's hold, stopping it through the worker first when asked. */
export async function holdCompany(options: HoldOptions): Promise<CompanyHold> {
  const { store, clock, company, actor } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_ACTION_LIMITS.holdTtlMs;
  // Unique per hold: two actions of one process must exclude each other too.
  const holder = `action:${actor}:${process.pid}:${randomBytes(3).toString("hex")}`;
  let stoppedHere = false;
  if (options.stopFirst && heldByWorker(store, company, clock.now())) {
    await stopThroughWorker(options);
    stoppedHere = true;
  }
  releaseDeadActionHold(store, company, clock.now());
  if (!store.leases.acquire(company, holder, process.pid, clock.now(), ttlMs)) {
    throw connectedError(store, company, clock.now());
  }
  let released = false;
  return {
    company,
    holder,
    renew: () => !released && store.leases.renew(company, holder, clock.now(), ttlMs),
    release(reason, releaseOptions = {}) {
      if (released) return;
      released = true;
      const now = clock.now();
      // Resuming sets the wish before the lease goes, so the worker's next look connects it.
      if (releaseOptions.resume ?? stoppedHere) {
        store.control.setDesired(company, "run", store.control.desired(company).pairingPhone, now);
      }
      store.leases.release(company, holder, now, reason);
    },
  };
}

/**
 * An action killed mid-way (kill -9, power cut) leaves its hold until the TTL: the company can
 * neither reconnect nor be cleaned for up to 10 minutes. Its pid is in the lease; when that
 * process is gone the hold is released at once (every wa-warden process runs on one host).
 */
export function releaseDeadActionHold(store: Store, company: string, now: number): boolean {
  const lease = store.leases.get(company);
  if (!lease?.holder.startsWith("action:") || lease.expiresAt <= now || isProcessAlive(lease.pid))
    return false;
  store.leases.release(company, lease.holder, now, "the action's process died");
  return true;
}

/** A live lease of a worker (not of another action: stopping the company would not free that one). */
function heldByWorker(store: Store, company: string, now: number): boolean {
  const lease = store.leases.get(company);
  return lease !== undefined && !lease.holder.startsWith("action:") && lease.expiresAt > now;
}

function connectedError(store: Store, company: string, now: number): WardenError {
  const lease = store.leases.get(company);
  const state = store.connections.get(company)?.state ?? "unknown";
  const by = lease ? lease.holder : "a worker";
  const busy = lease?.holder.startsWith("action:") === true;
  const what = busy
    ? `${company} is busy: another action (${by}) holds it`
    : `${company} is connected (state ${state}, held by ${by})`;
  // Busy (another action holds it) and connected (a worker does) are two failures, two codes.
  return new WardenError(
    busy ? ErrorCodes.LEASE_HELD : ErrorCodes.COMPANY_CONNECTED,
    `${what}; refusing to touch its folder. Stop it first (${wardenCommand(`stop ${company}`)}) or pass --stop.`,
    { company, state, holder: lease?.holder, expiresAt: lease?.expiresAt, now },
  );
}

async function stopThroughWorker(options: HoldOptions): Promise<void> {
  const { store, clock, company, actor } = options;
  const timeoutMs = options.stopTimeoutMs ?? DEFAULT_ACTION_LIMITS.stopTimeoutMs;
  const request = await awaitControlRequest({
    store,
    clock,
    company,
    action: "stop",
    args: { for: "action" },
    requestedBy: actor,
    timeoutMs,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    cancelReason: "no worker stopped it in time",
    timeoutError: (requestId) =>
      new WardenError(
        ErrorCodes.CONTROL_TIMEOUT,
        `No worker acknowledged "stop ${company}" within ${Math.round(timeoutMs / 1000)}s; nothing was touched.`,
        { company, requestId },
      ),
  });
  if (!request.ok) {
    throw new WardenError(
      ErrorCodes.CONTROL_FAILED,
      `The worker could not stop ${company}: ${request.result ?? "no reason given"}`,
      { company, requestId: request.id },
    );
  }
}
