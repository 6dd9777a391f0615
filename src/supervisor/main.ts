/**
 * Entry file of the warden-supervisor process: reads the environment, loads the config (exit 78
 * when it is bad), opens the database, starts the supervisor and tells pm2 it is ready after the
 * first scan. SIGINT/SIGTERM: stop watchers, flush alerts, close the database, exit 0.
 */
import path from "node:path";
import { createNotifiers } from "../alerts/notifiers/registry.js";
import { systemClock } from "../clock.js";
import { loadConfig, type WardenConfig } from "../config/load.js";
import { type ConfigWatcher, watchConfig } from "../config/watch-config.js";
import { readEnv } from "../env.js";
import { ConfigError, describeError, exitCodeFor } from "../errors.js";
import { type ListenAddress, resolveListen } from "../http/listen-address.js";
import { createLogger } from "../logger.js";
import { handleShutdown } from "../process-signals.js";
import { openStore, type Store } from "../store/store.js";
import { Supervisor } from "./supervisor.js";

const env = readEnv(process.env);
const logger = createLogger({ name: "warden-supervisor", secrets: [env.telegramToken, env.httpToken] });

let config: WardenConfig;
let httpAddress: ListenAddress | undefined;
try {
  config = loadConfig(env.configFile);
  httpAddress = resolveListen(config.http.listen, env.httpToken, config.file);
} catch (err) {
  if (err instanceof ConfigError)
    logger.fatal({ file: err.context.file, issues: err.issues, code: err.code }, err.message);
  else logger.fatal({ err }, describeError(err));
  process.exit(exitCodeFor(err));
}

let store: Store;
try {
  store = openStore(path.join(env.home, "warden.db"));
} catch (err) {
  logger.fatal({ err }, describeError(err));
  process.exit(exitCodeFor(err));
}

const notifiers = createNotifiers(env, logger);
if (!env.telegramToken) logger.info("TELEGRAM_BOT_TOKEN is not set: alerts go to this log");
else if (config.defaults.telegram.chatIds.length === 0 && config.companies.size === 0)
  logger.warn("TELEGRAM_BOT_TOKEN is set but telegram.chatIds is empty: alerts go to this log");

const supervisor = new Supervisor({
  config,
  store,
  logger,
  clock: systemClock,
  notifiers,
  home: env.home,
  backupKey: env.backupKey,
  ...(httpAddress ? { http: { address: httpAddress, token: env.httpToken } } : {}),
});
let configWatcher: ConfigWatcher | undefined;
handleShutdown(logger, "closing watchers, flushing alerts", async () => {
  await configWatcher?.close();
  await supervisor.close(Number(process.env.WARDEN_FLUSH_MS ?? 5_000));
  store.close();
});

try {
  await supervisor.start();
  configWatcher = watchConfig({
    file: config.file,
    onChange: (next) => supervisor.applyConfig(next),
    onError: (message) => supervisor.reportConfigError(message),
  });
  await configWatcher.ready;
  logger.info(
    {
      companies: supervisor.fleet.companies.size,
      mode: supervisor.fleet.mode,
      sessionsDir: config.sessionsDir,
    },
    "Ready: first scan done",
  );
  process.send?.("ready");
} catch (err) {
  logger.fatal({ err }, `Start-up failed: ${describeError(err)}`);
  process.exit(exitCodeFor(err));
}
