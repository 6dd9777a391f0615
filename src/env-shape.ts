/**
 * The shape of what `env.ts` reads, apart from the reading: any layer may take a `WardenEnv` (the
 * CLI commands do) while only entry files call `readEnv()`.
 */

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
  /** WARDEN_AUTH_KEY: encrypts database auth stores (WARDEN_BACKUP_KEY when unset). */
  authKey: string | undefined;
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
  /** WARDEN_HTTP_TOKEN: required by /api and the pages (and /metrics off loopback). */
  httpToken: string | undefined;
  /** WARDEN_PG_URL (or WARDEN_PG_URL_FILE): the PostgreSQL of companies on the postgres auth store. */
  pgUrl: string | undefined;
  /** PM2_HOME (default ~/.pm2): the pm2 daemon `warden doctor` asks about the apps. */
  pm2Home: string;
}
