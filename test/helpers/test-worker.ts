/** An in-process worker with the simulated driver, as the worker, snapshot and ladder tests run it. */
import type { Clock } from "../../src/clock.js";
import { companySettings, loadConfig, type WardenConfig } from "../../src/config/load.js";
import { databaseFile } from "../../src/home-layout.js";
import type { Logger } from "../../src/logger.js";
import { openStore, type Store } from "../../src/store/store.js";
import type { Driver } from "../../src/worker/drivers/driver.js";
import { createSimulatedDriver } from "../../src/worker/drivers/simulated.js";
import type { AuthStoreContext } from "../../src/worker/open-auth-state.js";
import { Worker } from "../../src/worker/worker.js";

/** Builds (does not start) worker instance 0 of 1 on `store`, with fast, jitter-free backoff. */
export function createTestWorker(options: {
  config: WardenConfig;
  store: Store;
  logger: Logger;
  holder: string;
  backupKey?: string;
  maxBackoffMs?: number;
  /** Database auth stores (companies whose warden-auth.json names one). */
  authStore?: AuthStoreContext;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: the simulated driver with each company's `simulation` settings. */
  driver?: Driver;
}): Worker {
  const { config } = options;
  const driver =
    options.driver ?? createSimulatedDriver((company) => companySettings(config, company).simulation);
  return new Worker({
    config,
    store: options.store,
    logger: options.logger,
    clock: options.clock ?? { now: () => Date.now() },
    instance: 0,
    instances: 1,
    holder: options.holder,
    pid: process.pid,
    pmId: null,
    driverFor: () => driver,
    backoff: { baseMs: 50, maxMs: options.maxBackoffMs ?? 200, stableAfterMs: 60_000, jitter: 0 },
    ...(options.backupKey !== undefined ? { backupKey: options.backupKey } : {}),
    ...(options.authStore !== undefined ? { authStore: options.authStore } : {}),
  });
}

/**
 * Starts in-process workers on a fleet fixture's config and database (each with its own store
 * handle, as a separate process would have) and closes them all after a test.
 */
export class FixtureWorkers {
  private readonly started: { worker: Worker; store: Store }[] = [];

  /** Starts worker instance 0 of 1 as `holder`; returns it with its store and the config it read. */
  async start(
    fx: { configFile: string; home: string; logger(): Logger },
    holder = "worker/0/1",
  ): Promise<{ worker: Worker; store: Store; config: WardenConfig }> {
    const config = loadConfig(fx.configFile);
    const store = openStore(databaseFile(fx.home));
    const worker = createTestWorker({ config, store, logger: fx.logger(), holder, maxBackoffMs: 100 });
    this.started.push({ worker, store });
    await worker.start();
    return { worker, store, config };
  }

  /** Closes every worker started here, then its store. */
  async closeAll(): Promise<void> {
    for (const { worker, store } of this.started.splice(0)) {
      await worker.close();
      store.close();
    }
  }
}
