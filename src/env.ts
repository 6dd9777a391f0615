/**
 * The one reader of `process.env`. Entry files (`src/*\/main.ts`) call `readEnv()` once and pass
 * what each part needs down; no other src file reads the environment (a test greps for it).
 *
 * Secrets can also come from files, the convention of container secrets: TELEGRAM_BOT_TOKEN_FILE,
 * WARDEN_HTTP_TOKEN_FILE, WARDEN_BACKUP_KEY_FILE, WARDEN_PG_URL_FILE name a file holding the value (one trailing
 * newline dropped). A secret file must be a regular file owned by this user with mode 0600 or
 * 0400: anything else is refused with WARDEN_ERR_SECRET_FILE (exit 78) naming the file and the fix,
 * because a token others can read is no longer a secret. Setting both X and X_FILE is refused too.
 */
import { readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WardenEnv } from "./env-shape.js";
import { ErrorCodes, WardenError } from "./errors.js";

export type { WardenEnv } from "./env-shape.js";

/** The variables that hold secrets; each may instead be given as `<name>_FILE`. */
export const SECRET_VARIABLES = [
  "TELEGRAM_BOT_TOKEN",
  "WARDEN_HTTP_TOKEN",
  "WARDEN_BACKUP_KEY",
  "WARDEN_PG_URL",
] as const;
type SecretName = (typeof SECRET_VARIABLES)[number];

/** Reads every variable wa-warden knows from `env` (default: this process's environment). */
export function readEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WardenEnv {
  const token = secret(env, "TELEGRAM_BOT_TOKEN", cwd)?.trim();
  const backupKey = secret(env, "WARDEN_BACKUP_KEY", cwd);
  return {
    configFile: path.resolve(cwd, env.WARDEN_CONFIG ?? path.join("config", "warden.json")),
    home: path.resolve(cwd, env.WARDEN_HOME ?? "data"),
    telegramToken: token ? token : undefined,
    telegramApiRoot: env.TELEGRAM_API_ROOT?.trim() || undefined,
    // Not trimmed: a passphrase may end with a space; an empty one means "not set".
    backupKey: backupKey ? backupKey : undefined,
    authKey: env.WARDEN_AUTH_KEY ? env.WARDEN_AUTH_KEY : undefined,
    logLevel: env.LOG_LEVEL,
    user: env.USER || env.LOGNAME || undefined,
    flushMs: Number(env.WARDEN_FLUSH_MS ?? 5_000),
    nodeAppInstance: env.NODE_APP_INSTANCE,
    pmId: env.pm_id === undefined ? null : Number(env.pm_id),
    driver: env.WARDEN_DRIVER,
    waWebSocketUrl: env.WARDEN_WA_WS_URL || undefined,
    baileysLogLevel: env.BAILEYS_LOG_LEVEL || undefined,
    httpToken: secret(env, "WARDEN_HTTP_TOKEN", cwd)?.trim() || undefined,
    // A URL with a password in it: a secret like the others (never logged, see logger redaction).
    pgUrl: secret(env, "WARDEN_PG_URL", cwd)?.trim() || undefined,
    pm2Home: path.resolve(cwd, env.PM2_HOME ?? path.join(os.homedir(), ".pm2")),
  };
}

/** A secret from `name`, or from the file `name_FILE` names (checked first); undefined when unset. */
function secret(env: NodeJS.ProcessEnv, name: SecretName, cwd: string): string | undefined {
  const fileVar = `${name}_FILE`;
  const file = env[fileVar];
  if (!file) return env[name];
  if (env[name])
    throw new WardenError(
      ErrorCodes.SECRET_FILE,
      `Both ${name} and ${fileVar} are set: keep one (the file is preferred, so the secret is not in the environment).`,
      { variable: name },
    );
  return readSecretFile(path.resolve(cwd, file), fileVar);
}

/** Reads a secret file after checking it is a regular file of this user's, mode 0600 or 0400. */
export function readSecretFile(file: string, variable: string): string {
  const refuse = (why: string, fix: string) =>
    new WardenError(ErrorCodes.SECRET_FILE, `${variable}=${file}: ${why}. Fix: ${fix}`, { file, variable });
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (err) {
    throw refuse(
      `cannot read it (${(err as NodeJS.ErrnoException).code ?? describe(err)})`,
      "point it at the file that holds the secret",
    );
  }
  if (!st.isFile()) throw refuse("not a regular file", "point it at the file that holds the secret");
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw refuse(
      `owned by uid ${st.uid}, not by this user (uid ${uid})`,
      `chown ${uid} ${file} (or run wa-warden as its owner)`,
    );
  const mode = st.mode & 0o777;
  if (mode !== 0o600 && mode !== 0o400)
    throw refuse(
      `mode ${mode.toString(8).padStart(4, "0")} lets others read or run it; a secret file must be 0600 or 0400`,
      `chmod 600 ${file}`,
    );
  return readFileSync(file, "utf8").replace(/\r?\n$/, "");
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
