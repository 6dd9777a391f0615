/**
 * The request → poll → cancel loop shared by the CLI's control commands and an action's stop
 * through the worker: queue a control request, look at it every `pollMs` (real time) until the
 * worker acknowledges it, and withdraw it when nobody picked it up before the deadline or the
 * caller gave up (`signal`). A request a worker already picked cannot be withdrawn: the loop waits
 * for its acknowledgement, so nobody acts on a company whose stop is half done.
 */
import type { Clock } from "../clock.js";
import { ErrorCodes, WardenError } from "../errors.js";
import type { ControlAction, ControlRequest } from "../store/control.js";
import type { Store } from "../store/store.js";

/** Inputs of awaitControlRequest. */
export interface AwaitControlOptions {
  store: Pick<Store, "control">;
  /** Stamps the request and its withdrawal (the deadline itself is real time). */
  clock: Clock;
  company: string;
  action: ControlAction;
  args: Record<string, unknown>;
  /** Who asks: "cli:alice", "ladder". */
  requestedBy: string;
  /** Withdraw the request when no worker picked it up within this long. */
  timeoutMs: number;
  /** Real time between two looks at the request (default 100 ms). */
  pollMs?: number;
  /** Stored as the withdrawal's result: why the request was cancelled. */
  cancelReason: string;
  /** The error thrown once the request was withdrawn for the timeout. */
  timeoutError: (requestId: number) => WardenError;
  /** The caller is shutting down: withdraw the request if it was not picked and throw CONTROL_ABORTED. */
  signal?: AbortSignal;
}

/** Queues a control request and resolves with it once acknowledged (`doneAt` set, ok or not). */
export async function awaitControlRequest(options: AwaitControlOptions): Promise<ControlRequest> {
  const { store, clock, company, action, signal } = options;
  const pollMs = options.pollMs ?? 100;
  const id = store.control.request(company, action, options.args, options.requestedBy, clock.now());
  const started = Date.now();
  for (;;) {
    const request = store.control.get(id);
    if (request?.doneAt) return request;
    if (signal?.aborted && store.control.cancel(id, `${options.cancelReason} (shutting down)`, clock.now())) {
      throw new WardenError(
        ErrorCodes.CONTROL_ABORTED,
        `Stopped waiting for "${action} ${company}": shutting down; the request was withdrawn.`,
        { company, action, requestId: id },
      );
    }
    if (
      Date.now() - started > options.timeoutMs &&
      store.control.cancel(id, options.cancelReason, clock.now())
    ) {
      throw options.timeoutError(id);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
