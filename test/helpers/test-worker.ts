/** An in-process worker with the simulated driver, as the worker, snapshot and ladder tests run it. */
import { companySettings, type WardenConfig } from "../../src/config/load.js";
import type { Logger } from "../../src/logger.js";
import type { Store } from "../../src/store/store.js";
import { createSimulatedDriver } from "../../src/worker/drivers/simulated.js";
import { Worker } from "../../src/worker/worker.js";

/** Builds (does not start) worker instance 0 of 1 on `store`, with fast, jitter-free backoff. */
export function createTestWorker(options: {
  config: WardenConfig;
  store: Store;
  logger: Logger;
  holder: string;
  backupKey?: string;
  maxBackoffMs?: number;
}): Worker {
  const { config } = options;
  const driver = createSimulatedDriver((company) => companySettings(config, company).simulation);
  return new Worker({
    config,
    store: options.store,
    logger: options.logger,
    clock: { now: () => Date.now() },
    instance: 0,
    instances: 1,
    holder: options.holder,
    pid: process.pid,
    pmId: null,
    driverFor: () => driver,
    backoff: { baseMs: 50, maxMs: options.maxBackoffMs ?? 200, stableAfterMs: 60_000, jitter: 0 },
    ...(options.backupKey !== undefined ? { backupKey: options.backupKey } : {}),
  });
}
