/** The scheduled backups as the supervisor builds them, on a fleet fixture's home, for the schedule tests. */
import { createActionContext } from "../../src/actions/action-context.js";
import type { Clock } from "../../src/clock.js";
import type { WardenConfig } from "../../src/config/load.js";
import type { Logger } from "../../src/logger.js";
import type { Store } from "../../src/store/store.js";
import { createAlertQueue } from "../../src/supervisor/alert-queue.js";
import { createScheduledBackups, type ScheduledBackups } from "../../src/supervisor/scheduled-backups.js";

/** Scheduled backups of `store` under `home`, alerts queued (not delivered), `busy` as the ladder's. */
export function testSchedule(options: {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: WardenConfig;
  home: string;
  busy?: ReadonlySet<string>;
}): ScheduledBackups {
  const { store, clock, logger, config, home } = options;
  const busy = options.busy ?? new Set<string>();
  return createScheduledBackups({
    store,
    clock,
    logger,
    config: () => config,
    actions: createActionContext({ store, clock, config: () => config, home }),
    alerts: createAlertQueue({ store, notifiers: new Map(), clock, logger, config: () => config }),
    kick: () => {},
    busy: () => busy,
  });
}
