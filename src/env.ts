/**
 * The one reader of `process.env`. Entry files (`src/*\/main.ts`) call `readEnv()` once and pass
 * what each part needs down; no other src file reads the environment (a test greps for it).
 */
import os from "node:os";
import path from "node:path";
import type { WardenEnv } from "./env-shape.js";

export type { WardenEnv } from "./env-shape.js";

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
    authKey: env.WARDEN_AUTH_KEY ? env.WARDEN_AUTH_KEY : undefined,
    logLevel: env.LOG_LEVEL,
    user: env.USER || env.LOGNAME || undefined,
    flushMs: Number(env.WARDEN_FLUSH_MS ?? 5_000),
    nodeAppInstance: env.NODE_APP_INSTANCE,
    pmId: env.pm_id === undefined ? null : Number(env.pm_id),
    driver: env.WARDEN_DRIVER,
    waWebSocketUrl: env.WARDEN_WA_WS_URL || undefined,
    baileysLogLevel: env.BAILEYS_LOG_LEVEL || undefined,
    httpToken: env.WARDEN_HTTP_TOKEN?.trim() || undefined,
    pm2Home: path.resolve(cwd, env.PM2_HOME ?? path.join(os.homedir(), ".pm2")),
  };
}
