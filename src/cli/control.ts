/**
 * `warden reconnect|stop|start|pair <company>`: a control request through SQLite, picked up by the
 * worker that owns the company (within about a second) and acknowledged with a result.
 */
import { assertCompanyFolder } from "../config/company-id.js";
import type { WardenConfig } from "../config/load.js";
import { ErrorCodes, WardenError } from "../errors.js";
import type { ControlAction, ControlRequest } from "../store/control.js";
import type { Store } from "../store/store.js";

/** Queues a request and waits for its acknowledgement (or gives up after `timeoutMs`). */
export async function runControl(
  config: WardenConfig,
  store: Store,
  company: string,
  action: ControlAction,
  args: Record<string, unknown>,
  timeoutMs: number,
): Promise<ControlRequest> {
  assertCompanyFolder(config.sessionsDir, company);
  const id = store.control.request(company, action, args, `cli:${process.env.USER ?? "unknown"}`, Date.now());
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const request = store.control.get(id);
    if (request?.doneAt) return request;
    if (Date.now() > deadline && store.control.cancel(id, "no worker picked it up in time", Date.now())) {
      throw new WardenError(
        ErrorCodes.CONTROL_TIMEOUT,
        `No worker picked up "${action} ${company}" within ${Math.round(timeoutMs / 1000)}s; the request was withdrawn. Is warden-worker running? (npx pm2 ls)`,
        { company, action },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
