/**
 * The one reader of `process.env`. Entry files (`src/*\/main.ts`) call `readEnv()` once and pass
 * what each part needs down; no other src file reads the environment (a test greps for it).
 */
import path from "node:path";

/** The environment wa-warden reads. */
export interface WardenEnv {
  /** Path of warden.json (WARDEN_CONFIG, default config/warden.json). */
  configFile: string;
  /** Data folder (WARDEN_HOME, default data): SQLite database, backups; see home-layout.ts. */
  home: string;
  telegramToken: string | undefined;
  telegramApiRoot: string | undefined;
  /** WARDEN_BACKUP_KEY: when set, backups and creds snapshots are encrypted with it. */
  backupKey: string | undefined;
  /** LOG_LEVEL: the pino level of the process logger (the logger defaults to "info"). */
  logLevel: string | undefined;
  /** USER (or LOGNAME): the operator a CLI request is made by (the entry falls back to the OS user name). */
  user: string | undefined;
  /** WARDEN_FLUSH_MS: how long the supervisor waits for queued alerts at shutdown (default 5000). */
  flushMs: number;
  /** NODE_APP_INSTANCE as pm2 sets it: the worker's instance number, unparsed. */
  nodeAppInstance: string | undefined;
  /** pm_id as pm2 sets it, or null outside pm2. */
  pmId: number | null;
  /** WARDEN_DRIVER: forces every company of a worker onto one driver (unchecked here). */
  driver: string | undefined;
  /** WARDEN_WA_WS_URL: the WhatsApp WebSocket the Baileys driver connects to (tests, demo). */
  waWebSocketUrl: string | undefined;
  /** BAILEYS_LOG_LEVEL: the level of Baileys' own logger. */
  baileysLogLevel: string | undefined;
}

/** Reads every variable wa-warden knows from `env` (default: this process's environment). */
export function readEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WardenEnv {
  const token = env.TELEGRAM_BOT_TOKEN?.trim();
  return {
    configFile: path.resolve(cwd, env.WARDEN_CONFIG ?? path.join("config", "warden.json")),
    home: path.resolve(cwd, env.WARDEN_HOME ?? "data"),
    telegramToken: token ? token : undefined,
    telegramApiRoot: env.TELEGRAM_API_ROOT?.trim() || undefined,
    // Not trimmed: a passphrase may end with a space; an empty one means "not set".
    backupKey: env.WARDEN_BACKUP_KEY ? env.WARDEN_BACKUP_KEY : undefined,
    logLevel: env.LOG_LEVEL,
    user: env.USER || env.LOGNAME || undefined,
    flushMs: Number(env.WARDEN_FLUSH_MS ?? 5_000),
    nodeAppInstance: env.NODE_APP_INSTANCE,
    pmId: env.pm_id === undefined ? null : Number(env.pm_id),
    driver: env.WARDEN_DRIVER,
    waWebSocketUrl: env.WARDEN_WA_WS_URL || undefined,
    baileysLogLevel: env.BAILEYS_LOG_LEVEL || undefined,
  };
}
