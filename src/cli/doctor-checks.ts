/**
 * The checks of `warden doctor`, one function each. A check never throws: it returns ok, warn or
 * fail with what it saw and, when not ok, the fix to apply. Secrets are compared, never printed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import path from "node:path";
import { TelegramApiError } from "node-telegram-bot-api";
import { createTelegramApi } from "../alerts/notifiers/telegram-client.js";
import { describeTelegramError } from "../alerts/notifiers/telegram-failure.js";
import { type CliInvocation, cliInvocation, thisInstall } from "../cli-invocation.js";
import { isCompanyId } from "../config/company-id.js";
import type { WardenConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { describeError } from "../errors.js";
import { databaseFile } from "../home-layout.js";
import { probeTcp } from "../ladder/connectivity-probe.js";
import { scrubSecrets } from "../logger.js";
import { openStore } from "../store/store.js";

/** The verdict of one check. */
export interface CheckResult {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: "warn",
  detail,
  fix,
});
const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: "fail",
  detail,
  fix,
});

/** The commands a fix names, as they run here against the pm2 daemon this shell addresses. */
export function fixCommands(env: Pick<WardenEnv, "pm2Home" | "configFile">): CliInvocation {
  return cliInvocation(thisInstall().kind, { pm2Home: env.pm2Home, configFile: env.configFile });
}

/** The pm2 apps of the ecosystem file. */
export const PM2_APPS = ["warden-supervisor", "warden-worker"] as const;

interface Pm2App {
  name?: string;
  pm2_env?: { status?: string; pm_cwd?: string; env?: Record<string, unknown> } & Record<string, unknown>;
}

/** Lists the apps of the pm2 daemon at pm2Home (never starts a daemon: no socket, no daemon). */
async function listPm2(pm2Home: string): Promise<Pm2App[] | undefined> {
  if (!existsSync(path.join(pm2Home, "rpc.sock"))) return undefined;
  const { default: pm2 } = await import("pm2");
  await new Promise<void>((resolve, reject) => pm2.connect((err) => (err ? reject(err) : resolve())));
  try {
    return await new Promise<Pm2App[]>((resolve, reject) =>
      pm2.list((err, list) => (err ? reject(err) : resolve(list as unknown as Pm2App[]))),
    );
  } finally {
    pm2.disconnect();
  }
}

/** pm2 apps registered, online, and started with this shell's WARDEN_CONFIG, WARDEN_HOME and tokens. */
export async function checkPm2(env: WardenEnv): Promise<CheckResult[]> {
  const run = fixCommands(env);
  const restartFix = `pm2 keeps the environment it was started with: ${run.startWhere} run \`${run.start}\` (it deletes and starts the apps again with this shell's environment)`;
  let apps: Pm2App[] | undefined;
  try {
    apps = await listPm2(env.pm2Home);
  } catch (err) {
    return [
      fail(
        "pm2",
        `cannot talk to the pm2 daemon in ${env.pm2Home}: ${describeError(err)}`,
        `check PM2_HOME; \`${run.pm2("ping")}\` answers when the daemon is up`,
      ),
    ];
  }
  if (apps === undefined)
    return [
      fail(
        "pm2",
        `no pm2 daemon runs with PM2_HOME=${env.pm2Home}`,
        `start the fleet ${run.startWhere} with \`${run.start}\`, or set PM2_HOME to the daemon's folder`,
      ),
    ];
  const results: CheckResult[] = [];
  for (const name of PM2_APPS) {
    const instances = apps.filter((a) => a.name === name);
    if (instances.length === 0) {
      results.push(fail(`pm2 ${name}`, "not registered in pm2", `run \`${run.start}\` ${run.startWhere}`));
      continue;
    }
    const problems: string[] = [];
    for (const [i, app] of instances.entries()) {
      const penv = app.pm2_env ?? {};
      const read = (key: string): string | undefined => {
        const v = penv.env?.[key] ?? penv[key];
        return typeof v === "string" && v.trim() !== "" ? v : undefined;
      };
      const cwd = typeof penv.pm_cwd === "string" ? penv.pm_cwd : process.cwd();
      const label = instances.length > 1 ? `instance ${i}: ` : "";
      if (penv.status !== "online") problems.push(`${label}status ${penv.status ?? "unknown"}`);
      const config = path.resolve(cwd, read("WARDEN_CONFIG") ?? path.join("config", "warden.json"));
      if (config !== env.configFile)
        problems.push(`${label}WARDEN_CONFIG is ${config}, this shell has ${env.configFile}`);
      const home = path.resolve(cwd, read("WARDEN_HOME") ?? "data");
      if (home !== env.home) problems.push(`${label}WARDEN_HOME is ${home}, this shell has ${env.home}`);
      for (const [key, mine] of [
        ["TELEGRAM_BOT_TOKEN", env.telegramToken],
        ["WARDEN_HTTP_TOKEN", env.httpToken],
      ] as const) {
        // The workers must hold neither token (ecosystem.config.cjs filters them out).
        if (name === "warden-worker") {
          if (read(key) !== undefined || read(`${key}_FILE`) !== undefined)
            problems.push(`${label}holds ${key} (a worker needs no token)`);
          continue;
        }
        // A token read from a file at start is not in pm2's environment to compare.
        if (read(`${key}_FILE`) === undefined && (read(key)?.trim() ?? undefined) !== mine)
          problems.push(`${label}${key} differs from this shell's`);
      }
    }
    results.push(
      problems.length === 0
        ? ok(`pm2 ${name}`, `${instances.length} online, same environment as this shell`)
        : fail(`pm2 ${name}`, problems.join("; "), restartFix),
    );
  }
  return results;
}

/** Backups and creds snapshots are sealed only with WARDEN_BACKUP_KEY; without it they are plaintext. */
export function checkBackupKey(env: WardenEnv): CheckResult {
  return env.backupKey === undefined
    ? warn(
        "backup encryption",
        "WARDEN_BACKUP_KEY is not set: backups and creds snapshots are plaintext copies of creds.json (whoever reads one holds the WhatsApp account)",
        "set WARDEN_BACKUP_KEY, or WARDEN_BACKUP_KEY_FILE naming a 0600 file, in the shell that starts pm2, then npm start",
      )
    : ok("backup encryption", "WARDEN_BACKUP_KEY is set: backups and creds snapshots are encrypted");
}

/** Every chat id in the config (defaults and company overrides). */
export function configuredChats(config: WardenConfig): string[] {
  const ids = new Set(config.defaults.telegram.chatIds.map(String));
  for (const settings of config.companies.values())
    for (const id of settings.telegram.chatIds) ids.add(String(id));
  return [...ids];
}

/** The bot token (getMe) and every configured chat (getChat). */
export async function checkTelegram(env: WardenEnv, config: WardenConfig): Promise<CheckResult[]> {
  const chats = configuredChats(config);
  if (!env.telegramToken)
    return [
      warn(
        "telegram",
        "TELEGRAM_BOT_TOKEN is not set: alerts go to the supervisor's log",
        "set TELEGRAM_BOT_TOKEN (from @BotFather) in the shell that starts pm2",
      ),
    ];
  const token = env.telegramToken;
  const scrub = (text: string) => scrubSecrets(text, [token]);
  const api = createTelegramApi({
    token,
    ...(env.telegramApiRoot ? { apiRoot: env.telegramApiRoot } : {}),
    timeoutMs: 10_000,
  });
  const why = (err: unknown, method: string) => scrub(describeTelegramError(err, method));
  let me: Awaited<ReturnType<typeof api.getMe>>;
  try {
    me = await api.getMe();
  } catch (err) {
    const refused = err instanceof TelegramApiError && err.errorCode === 401;
    return [
      fail(
        "telegram token",
        why(err, "getMe"),
        refused
          ? `the token is wrong or revoked: copy it again from @BotFather into TELEGRAM_BOT_TOKEN, then run \`${fixCommands(env).start}\` ${fixCommands(env).startWhere}`
          : "check the network to the Bot API (or TELEGRAM_API_ROOT)",
      ),
    ];
  }
  const results = [ok("telegram token", `getMe: @${me.username ?? me.first_name}`)];
  if (chats.length === 0)
    results.push(
      warn(
        "telegram chats",
        "telegram.chatIds is empty: alerts go to the log",
        "add chat ids to telegram.chatIds",
      ),
    );
  for (const chat of chats) {
    try {
      const info = await api.getChat({ chat_id: /^-?\d+$/.test(chat) ? Number(chat) : chat });
      results.push(
        ok(
          `telegram chat ${chat}`,
          `getChat: ${info.type}${"title" in info && info.title ? ` "${info.title}"` : ""}`,
        ),
      );
    } catch (err) {
      results.push(
        fail(
          `telegram chat ${chat}`,
          why(err, "getChat"),
          "add the bot to the chat (a channel needs it as admin), or fix the id in telegram.chatIds",
        ),
      );
    }
  }
  return results;
}

/** The TCP probe to WhatsApp (fleet.probe). */
export async function checkProbe(config: WardenConfig): Promise<CheckResult> {
  const probe = config.fleet.probe;
  if (!probe)
    return warn(
      "whatsapp probe",
      "fleet.probe is null: outages cannot be told from broken sessions",
      "set fleet.probe",
    );
  const reached = await probeTcp(probe.host, probe.port, probe.timeout);
  return reached
    ? ok("whatsapp probe", `TCP ${probe.host}:${probe.port} reachable`)
    : fail(
        "whatsapp probe",
        `TCP ${probe.host}:${probe.port} not reachable within ${probe.timeout} ms`,
        "check the network, DNS and firewall to WhatsApp",
      );
}

const MIN_FREE_BYTES = 1024 ** 3;
const MIN_FREE_INODES = 50_000;

/** Free space and inodes where a folder lives. */
export async function checkDisk(
  name: string,
  dir: string,
  env: Pick<WardenEnv, "pm2Home" | "configFile">,
): Promise<CheckResult> {
  let target = dir;
  while (!existsSync(target) && path.dirname(target) !== target) target = path.dirname(target);
  try {
    const s = await statfs(target);
    const freeBytes = s.bavail * s.bsize;
    const detail = `${(freeBytes / 1024 ** 3).toFixed(1)} GiB and ${s.ffree} inodes free (${dir})`;
    if (freeBytes < MIN_FREE_BYTES || (s.files > 0 && s.ffree < MIN_FREE_INODES))
      return fail(
        `disk ${name}`,
        detail,
        `free space or inodes there: old backups in WARDEN_HOME/backups, logs (\`${fixCommands(env).pm2("flush")}\`)`,
      );
    return ok(`disk ${name}`, detail);
  } catch (err) {
    return fail(
      `disk ${name}`,
      `statfs ${target}: ${describeError(err)}`,
      `check that ${dir} exists and is readable`,
    );
  }
}

/** The database opens and passes SQLite's integrity check. */
export function checkDatabase(home: string): CheckResult {
  const file = databaseFile(home);
  if (!existsSync(file))
    return warn(
      "database",
      `no database at ${file} yet`,
      "start the supervisor with this WARDEN_HOME (it creates the database)",
    );
  try {
    openStore(file).close();
    return ok("database", `${file}: integrity check ok`);
  } catch (err) {
    return fail(
      "database",
      describeError(err),
      "stop the fleet, move warden.db aside and restart (state is rebuilt; history and audit are lost), or restore it from a copy",
    );
  }
}

/** inotify limits against the company folders (one watch per folder, plus the root). */
export function checkInotify(config: WardenConfig, procDir = "/proc/sys/fs/inotify"): CheckResult {
  let folders = 0;
  try {
    folders = readdirSync(config.sessionsDir, { withFileTypes: true }).filter(
      (e) => e.isDirectory() && isCompanyId(e.name),
    ).length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      return fail(
        "inotify",
        `cannot read sessionsDir ${config.sessionsDir}: ${describeError(err)}`,
        "check its permissions",
      );
  }
  let watches: number;
  try {
    watches = Number(readFileSync(path.join(procDir, "max_user_watches"), "utf8").trim());
  } catch {
    return warn("inotify", `cannot read ${procDir}/max_user_watches (not Linux?)`, "none needed off Linux");
  }
  // Every other inotify user of this account shares the limit: ask for twice what we need.
  const needed = 2 * (folders + 16);
  const detail = `max_user_watches ${watches}, ${folders} company folders`;
  if (watches < needed)
    return fail(
      "inotify",
      detail,
      `sysctl -w fs.inotify.max_user_watches=${Math.max(65_536, needed * 4)} (and in /etc/sysctl.d/ to keep it)`,
    );
  return ok("inotify", detail);
}
