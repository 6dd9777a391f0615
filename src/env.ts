/** Environment variables read by the entry files (and only there). */
import os from "node:os";
import path from "node:path";

/** The environment wa-warden reads. */
export interface WardenEnv {
  /** Path of warden.json. */
  configFile: string;
  /** Data folder: SQLite database, backups. */
  home: string;
  telegramToken: string | undefined;
  telegramApiRoot: string | undefined;
  /** WARDEN_BACKUP_KEY: when set, backups and creds snapshots are encrypted with it. */
  backupKey: string | undefined;
  /** WARDEN_HTTP_TOKEN: required by /api and the pages (and /metrics off loopback). */
  httpToken: string | undefined;
  /** PM2_HOME (default ~/.pm2): the pm2 daemon `warden doctor` asks about the apps. */
  pm2Home: string;
}

/** Reads WARDEN_CONFIG, WARDEN_HOME, TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT, WARDEN_BACKUP_KEY, WARDEN_HTTP_TOKEN, PM2_HOME. */
export function readEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): WardenEnv {
  const token = env.TELEGRAM_BOT_TOKEN?.trim();
  return {
    configFile: path.resolve(cwd, env.WARDEN_CONFIG ?? path.join("config", "warden.json")),
    home: path.resolve(cwd, env.WARDEN_HOME ?? "data"),
    telegramToken: token ? token : undefined,
    telegramApiRoot: env.TELEGRAM_API_ROOT?.trim() || undefined,
    // Not trimmed: a passphrase may end with a space; an empty one means "not set".
    backupKey: env.WARDEN_BACKUP_KEY ? env.WARDEN_BACKUP_KEY : undefined,
    httpToken: env.WARDEN_HTTP_TOKEN?.trim() || undefined,
    pm2Home: path.resolve(cwd, env.PM2_HOME ?? path.join(os.homedir(), ".pm2")),
  };
}
