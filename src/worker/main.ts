/**
 * Entry file of a warden-worker instance (pm2 runs `workers.instances` of them). Instance k owns
 * the companies whose id hashes to k (NODE_APP_INSTANCE). SIGINT/SIGTERM: close every socket
 * without logging out, flush creds, release leases, exit 0 within kill_timeout.
 */

import os from "node:os";
import { AuthKey } from "../auth-store/row-cipher.js";
import { systemClock } from "../clock.js";
import { companySettings, loadConfig, type WardenConfig } from "../config/load.js";
import { readEnv, type WardenEnv } from "../env.js";
import { ConfigError, describeError, ErrorCodes, ExitCodes, exitCodeFor, WardenError } from "../errors.js";
import { findVolumeProblems, stateVolumes } from "../fs/volume-access.js";
import { databaseFile } from "../home-layout.js";
import { createLogger } from "../logger.js";
import { handleShutdown } from "../process-signals.js";
import { installConsoleGuard } from "../signals/console-guard.js";
import { createSignalRecorder } from "../signals/signal-recorder.js";
import { openStore, type Store } from "../store/store.js";
import { credsSnapshotsEncrypted } from "./creds-snapshots/creds-snapshot-encryption.js";
import { createBaileysDriver } from "./drivers/baileys.js";
import type { Driver } from "./drivers/driver.js";
import { createSimulatedDriver } from "./drivers/simulated.js";
import { Worker } from "./worker.js";

let env: WardenEnv;
try {
  env = readEnv();
} catch (err) {
  // A refused secret file: say which and how to fix it, exit 78 (pm2 does not restart on it).
  process.stderr.write(`warden-worker: ${describeError(err)}\n`);
  process.exit(exitCodeFor(err));
}
const instance = Number(env.nodeAppInstance ?? 0);
const logger = createLogger({
  name: `warden-worker-${instance}`,
  level: env.logLevel,
  secrets: [env.telegramToken, env.backupKey, env.authKey, env.pgUrl],
});

let config: WardenConfig;
let store: Store;
try {
  config = loadConfig(env.configFile);
  if (!Number.isInteger(instance) || instance < 0 || instance >= config.workers.instances) {
    throw new WardenError(
      ErrorCodes.CONFIG_INVALID,
      `NODE_APP_INSTANCE=${env.nodeAppInstance} is outside workers.instances (${config.workers.instances}) in ${config.file}`,
    );
  }
  const volumeProblems = findVolumeProblems(stateVolumes(config.sessionsDir, env.home));
  if (volumeProblems.length > 0) {
    // One line per volume with its fix, exit 78 (see the supervisor's entry): no stack trace.
    for (const p of volumeProblems) logger.fatal({ kind: "volume-not-writable", path: p.path }, p.line);
    process.exit(ExitCodes.CONFIG);
  }
  store = openStore(databaseFile(env.home));
} catch (err) {
  if (err instanceof ConfigError)
    logger.fatal({ file: err.context.file, issues: err.issues, code: err.code }, err.message);
  else logger.fatal({ err }, describeError(err));
  process.exit(exitCodeFor(err));
}

const forcedDriver = env.driver;
if (forcedDriver !== undefined && forcedDriver !== "simulated" && forcedDriver !== "baileys") {
  logger.fatal(`WARDEN_DRIVER must be "baileys" or "simulated", got ${JSON.stringify(forcedDriver)}`);
  process.exit(ExitCodes.CONFIG);
}
// Decrypt failures, session churn, retry receipts, stream errors: counted per company, one summary
// line per company per minute instead of libsignal's console floods (invariant 22).
const signals = createSignalRecorder({ signals: store.signals, clock: systemClock, logger });
const consoleGuard = installConsoleGuard(signals);
const drivers: Record<"baileys" | "simulated", Driver> = {
  baileys: createBaileysDriver({
    signals,
    within: consoleGuard.within,
    ...(env.waWebSocketUrl ? { waWebSocketUrl: env.waWebSocketUrl } : {}),
    ...(env.baileysLogLevel ? { logLevel: env.baileysLogLevel } : {}),
  }),
  simulated: createSimulatedDriver((company) => companySettings(config, company).simulation, signals),
};

// Stretched once (scrypt): every database company of this worker opens with it.
const authPassphrase = env.authKey ?? env.backupKey;
const authKey = authPassphrase === undefined ? undefined : await AuthKey.derive(authPassphrase);

const holder = `${os.hostname()}/${instance}/${process.pid}`;
const worker = new Worker({
  config,
  store,
  logger,
  clock: systemClock,
  instance,
  instances: config.workers.instances,
  holder,
  pid: process.pid,
  pmId: env.pmId,
  driverFor: (_company, settings) =>
    drivers[(forcedDriver as "baileys" | "simulated" | undefined) ?? settings.driver],
  ...(env.backupKey !== undefined ? { backupKey: env.backupKey } : {}),
  signals,
  authStore: { home: env.home, key: authKey, clock: systemClock, pgUrl: env.pgUrl },
});

handleShutdown(logger, "closing sockets (no logout), flushing creds, releasing leases", async () => {
  await worker.close();
  consoleGuard.close();
  store.close();
});

const snapshotWarning = credsSnapshotsEncrypted(store, env.backupKey !== undefined).warning;
if (snapshotWarning) logger.warn({ kind: "creds-snapshots-unencrypted" }, snapshotWarning);

try {
  await worker.start();
  logger.info({ holder, companies: worker.companies }, "Ready");
  process.send?.("ready");
} catch (err) {
  logger.fatal({ err }, `Start-up failed: ${describeError(err)}`);
  process.exit(exitCodeFor(err) || ExitCodes.FAILURE);
}
