/**
 * `warden reconnect|stop|start|pair <company>`: a control request through SQLite, picked up by the
 * worker that owns the company (within about a second) and acknowledged with a result.
 */
import { awaitControlRequest } from "../actions/await-control-request.js";
import { systemClock } from "../clock.js";
import { assertCompanyFolder } from "../config/company-id.js";
import type { WardenConfig } from "../config/load.js";
import { ErrorCodes, WardenError } from "../errors.js";
import type { ControlAction, ControlRequest } from "../store/control.js";
import type { Store } from "../store/store.js";

/**
 * Queues a request made by `actor` ("cli:<user>", from the entry) and waits for its
 * acknowledgement, or withdraws it after `timeoutMs`.
 */
export async function runControl(
  config: WardenConfig,
  store: Store,
  company: string,
  action: ControlAction,
  args: Record<string, unknown>,
  timeoutMs: number,
  actor: string,
): Promise<ControlRequest> {
  assertCompanyFolder(config.sessionsDir, company);
  return awaitControlRequest({
    store,
    clock: systemClock,
    company,
    action,
    args,
    requestedBy: actor,
    timeoutMs,
    cancelReason: "no worker picked it up in time",
    timeoutError: () =>
      new WardenError(
        ErrorCodes.CONTROL_TIMEOUT,
        `No worker picked up "${action} ${company}" within ${Math.round(timeoutMs / 1000)}s; the request was withdrawn. Is warden-worker running? (npx pm2 ls)`,
        { company, action },
      ),
  });
}
