/**
 * Entry file of the warden-supervisor process: reads the environment, loads the config (exit 78
 * when it is bad), opens the database, starts the supervisor and tells pm2 it is ready once it
 * serves (the first scan then runs on; "First scan done" is logged when it ends). SIGINT/SIGTERM: stop watchers, flush alerts, close the database, exit 0.
 */

import { alertDirectly } from "../alerts/alert-directly.js";
import { createNotifiers } from "../alerts/notifiers/registry.js";
import { checkTelegramBot } from "../alerts/notifiers/telegram.js";
import { systemClock } from "../clock.js";
import { loadConfig, type WardenConfig } from "../config/load.js";
import { type ConfigWatcher, watchConfig } from "../config/watch-config.js";
import { readEnv, type WardenEnv } from "../env.js";
import { ConfigError, describeError, ExitCodes, exitCodeFor } from "../errors.js";
import { findVolumeProblems, stateVolumes } from "../fs/volume-access.js";
import { databaseFile } from "../home-layout.js";
import { type ListenAddress, resolveListen } from "../http/listen-address.js";
import { createLogger } from "../logger.js";
import { handleShutdown } from "../process-signals.js";
import { type DatabaseIdentity, databaseFileProblem, databaseIdentity } from "../store/db.js";
import { openStore, type Store } from "../store/store.js";
import { credsSnapshotsEncrypted } from "../worker/creds-snapshots/creds-snapshot-encryption.js";
import { createLoopMonitor, type LoopMonitor } from "./loop-monitor.js";
import { Supervisor } from "./supervisor.js";

// How often the supervisor checks that warden.db is still the file it opened.
const DB_CHECK_MS = 2_000;

let env: WardenEnv;
try {
  env = readEnv();
} catch (err) {
  // A refused secret file: say which and how to fix it, exit 78 (pm2 does not restart on it).
  process.stderr.write(`warden-supervisor: ${describeError(err)}\n`);
  process.exit(exitCodeFor(err));
}
const logger = createLogger({
  name: "warden-supervisor",
  level: env.logLevel,
  secrets: [env.telegramToken, env.httpToken, env.pgUrl],
});

let config: WardenConfig;
let httpAddress: ListenAddress | undefined;
try {
  config = loadConfig(env.configFile);
  httpAddress = resolveListen(config.http.listen, env.httpToken, config.file, config.http);
} catch (err) {
  if (err instanceof ConfigError)
    logger.fatal({ file: err.context.file, issues: err.issues, code: err.code }, err.message);
  else logger.fatal({ err }, describeError(err));
  process.exit(exitCodeFor(err));
}

// A volume this uid cannot write (a redeploy with another owner, a read-only mount): one line that
// names it and the fix, exit 78 (pm2 does not restart: restarting cannot help), no stack trace.
const volumeProblems = findVolumeProblems(stateVolumes(config.sessionsDir, env.home));
if (volumeProblems.length > 0) {
  for (const p of volumeProblems) logger.fatal({ kind: "volume-not-writable", path: p.path }, p.line);
  process.exit(ExitCodes.CONFIG);
}

const dbFile = databaseFile(env.home);
let store: Store;
let dbIdentity: DatabaseIdentity;
try {
  store = openStore(dbFile);
  dbIdentity = databaseIdentity(dbFile);
} catch (err) {
  logger.fatal({ err }, describeError(err));
  process.exit(exitCodeFor(err));
}

const snapshotWarning = credsSnapshotsEncrypted(store, env.backupKey !== undefined).warning;
if (snapshotWarning) logger.warn({ kind: "creds-snapshots-unencrypted" }, snapshotWarning);
if (env.backupKey === undefined)
  logger.warn(
    { kind: "backups-unencrypted" },
    "WARDEN_BACKUP_KEY is not set: backups (the automatic ones before a cleanup or restore too) are plaintext archives of creds.json, which is the WhatsApp account. Set WARDEN_BACKUP_KEY or WARDEN_BACKUP_KEY_FILE.",
  );

const notifiers = createNotifiers(env, logger);
if (!env.telegramToken) logger.info("TELEGRAM_BOT_TOKEN is not set: alerts go to this log");
else {
  const chats = new Set(
    [config.defaults, ...config.companies.values()].flatMap((c) => c.telegram.chatIds.map(String)),
  );
  if (chats.size === 0)
    logger.warn("TELEGRAM_BOT_TOKEN is set but telegram.chatIds is empty: alerts go to this log");
  // The token is checked at once, so a typo shows at start and not at the first incident.
  void checkTelegramBot({ token: env.telegramToken, apiRoot: env.telegramApiRoot }).then((me) => {
    if (me.ok) logger.info(`Telegram on: @${me.username}, ${chats.size} chats`);
    else
      logger.error(`Telegram check (getMe) failed: ${me.reason}; alerts wait in the outbox until it works`);
  });
}

const supervisor = new Supervisor({
  config,
  store,
  logger,
  clock: systemClock,
  notifiers,
  home: env.home,
  backupKey: env.backupKey,
  ...(env.pgUrl !== undefined ? { pgUrl: env.pgUrl } : {}),
  authKey: env.authKey,
  ...(env.telegramToken ? { bot: { token: env.telegramToken, apiRoot: env.telegramApiRoot } } : {}),
  ...(httpAddress ? { http: { address: httpAddress, token: env.httpToken } } : {}),
});
let configWatcher: ConfigWatcher | undefined;
// Started once serving (below), before the first scan's folders are read: loading the HTTP side at
// start-up evaluates fastify and its dependencies in one go (~130 ms) while nothing is waiting yet,
// and a warning for that on every start would teach operators to ignore the one that matters.
let loopMonitor: LoopMonitor | undefined;
// The fleet benchmark (scripts/bench-fleet.ts) reads the longest loop block over IPC.
process.on("message", (message) => {
  if (message === "loop-reset") loopMonitor?.reset();
  if (message === "loop-max") process.send?.({ loopMaxMs: loopMonitor?.maxMs() ?? 0 });
});
const stopNow = handleShutdown(logger, "closing watchers, flushing alerts", async () => {
  clearInterval(dbWatch);
  loopMonitor?.close();
  await configWatcher?.close();
  await supervisor.close(env.flushMs);
  store.close();
});

// warden.db deleted or replaced under us (invariant 15): every later write would vanish silently. Alert
// straight through the notifiers (the outbox lives in that file), then stop and exit 1.
const dbWatch = setInterval(() => {
  const problem = databaseFileProblem(dbFile, dbIdentity);
  if (!problem) return;
  clearInterval(dbWatch);
  logger.fatal({ kind: "database-gone", file: dbFile }, `${problem}; stopping`);
  void alertDirectly(
    notifiers,
    config.defaults.telegram.chatIds.map(String),
    "wa-warden supervisor stopped",
    `${problem}. The supervisor stopped so nothing is lost silently: restore warden.db (or move it back), then restart.`,
  )
    .catch((err) => logger.error({ err }, `Direct alert failed: ${describeError(err)}`))
    .finally(() => stopNow("database gone", ExitCodes.FAILURE));
}, DB_CHECK_MS);
dbWatch.unref();

// "Ready" (pm2's wait_ready) means serving: database open, alerts delivered, HTTP listening,
// config watched, the first full scan under way. Counting 10,000 folders stats ~800,000 files
// (seconds); GET /readyz stays 503 until the first scan is done, and the ladder, the probe,
// scheduled backups and the bot start after it: they act on its counts.
try {
  await supervisor.serve();
  loopMonitor = createLoopMonitor({ logger });
  configWatcher = watchConfig({
    file: config.file,
    onChange: (next) => supervisor.applyConfig(next),
    onError: (message) => supervisor.reportConfigError(message),
  });
  await configWatcher.ready;
  logger.info({ sessionsDir: config.sessionsDir }, "Ready: serving; first scan of sessionsDir under way");
  process.send?.("ready");
  const scanStarted = performance.now();
  await supervisor.firstScan();
  // (a stop during the first scan ends it early: nothing to report)
  if (supervisor.firstScanComplete)
    logger.info(
      {
        companies: supervisor.fleet.companies.size,
        mode: supervisor.fleet.mode,
        sessionsDir: config.sessionsDir,
        ms: Math.round(performance.now() - scanStarted),
      },
      "First scan done",
    );
} catch (err) {
  logger.fatal({ err }, `Start-up failed: ${describeError(err)}`);
  process.exit(exitCodeFor(err));
}
