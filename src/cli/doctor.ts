/**
 * `warden doctor [--json]`: checks what a fleet needs and prints a fix for each problem: the
 * config; the pm2 apps (registered, online, same WARDEN_CONFIG / WARDEN_HOME / tokens as this
 * shell); the Telegram token and chats; the probe to WhatsApp; the state folders writable by this
 * uid (sessionsDir, WARDEN_HOME); free space and inodes; the database; each company's auth store
 * (warden-auth.json, a sqlite database that opens) and the postgres one when a company uses it;
 * inotify limits. Exit 1 when a check fails (warnings do not fail).
 */
import { loadConfig, type WardenConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { ConfigError, describeError, ExitCodes } from "../errors.js";
import { findVolumeProblems, processIdentity, stateVolumes } from "../fs/volume-access.js";
import type { CommandSpec } from "./command.js";
import { checkAuthStores } from "./doctor-auth-stores.js";
import {
  type CheckResult,
  checkBackupKey,
  checkDatabase,
  checkDisk,
  checkInotify,
  checkPm2,
  checkProbe,
  checkTelegram,
  fixCommands,
} from "./doctor-checks.js";
import { checkPostgres } from "./doctor-postgres.js";

/** sessionsDir and WARDEN_HOME readable and writable by this uid (the start-up check, as results). */
export function checkVolumes(sessionsDir: string, home: string): CheckResult[] {
  const problems = findVolumeProblems(stateVolumes(sessionsDir, home));
  return stateVolumes(sessionsDir, home).map((volume) => {
    const problem = problems.find((p) => p.name === volume.name);
    const name = `writable ${volume.name}`;
    return problem
      ? { name, status: "fail", detail: `${volume.dir}: ${problem.what}`, fix: problem.fix }
      : { name, status: "ok", detail: `${volume.dir} (uid ${processIdentity().uid})` };
  });
}

const MARK = { ok: "ok  ", warn: "WARN", fail: "FAIL" } as const;

/** Runs every check (later ones need a valid config). */
export async function runDoctor(env: WardenEnv): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let config: WardenConfig | undefined;
  try {
    config = loadConfig(env.configFile);
    results.push({ name: "config", status: "ok", detail: config.file });
  } catch (err) {
    results.push({
      name: "config",
      status: "fail",
      detail:
        err instanceof ConfigError
          ? `${String(err.context.file)}: ${err.issues.join("; ")}`
          : describeError(err),
      fix: `fix the file (\`${fixCommands(env).warden("config check")}\` shows every problem)`,
    });
  }
  results.push(...(await checkPm2(env)));
  if (config) {
    results.push(...(await checkTelegram(env, config)));
    results.push(await checkProbe(config));
    results.push(...checkVolumes(config.sessionsDir, env.home));
    results.push(await checkDisk("sessionsDir", config.sessionsDir, env));
  }
  results.push(await checkDisk("WARDEN_HOME", env.home, env));
  results.push(checkDatabase(env.home));
  if (config) results.push(...(await checkAuthStores(env, config)));
  if (config) results.push(...(await checkPostgres(env, config)));
  results.push(checkBackupKey(env));
  if (config) results.push(checkInotify(config));
  return results;
}

/** Renders the results, one line each, with the fix under every problem. */
export function renderDoctor(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${MARK[r.status]}  ${r.name.padEnd(width)}  ${r.detail}`);
    if (r.fix && r.status !== "ok") lines.push(`      ${"".padEnd(width)}  fix: ${r.fix}`);
  }
  const failed = results.filter((r) => r.status === "fail").length;
  const warned = results.filter((r) => r.status === "warn").length;
  lines.push(
    "",
    failed === 0
      ? `All checks passed${warned ? ` (${warned} warning(s))` : ""}.`
      : `${failed} check(s) failed.`,
  );
  return lines.join("\n");
}

/** The command: prints the report; 1 when a check failed. */
export async function doctorCommand(env: WardenEnv, options: { json: boolean }): Promise<number> {
  const results = await runDoctor(env);
  const failed = results.some((r) => r.status === "fail");
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: !failed, checks: results }, null, 2)}\n`);
  else process.stdout.write(`${renderDoctor(results)}\n`);
  return failed ? ExitCodes.FAILURE : ExitCodes.OK;
}

/** `warden doctor [--json]`. */
export const doctorCommandSpec: CommandSpec = {
  name: "doctor",
  summary: "check config, pm2 apps, Telegram, WhatsApp probe, disk, database, inotify; a fix for each",
  details: "Exits 1 when a check fails.",
  args: { min: 0, max: 0 },
  run: (ctx) => doctorCommand(ctx.env, { json: ctx.json }),
};
