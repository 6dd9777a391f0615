/**
 * `npm start`: check the configuration, build, then (re)start the pm2 apps so they run with THIS
 * shell's environment and config. `pm2 start` on registered apps keeps their old environment (a
 * TELEGRAM_BOT_TOKEN given later was ignored) and `pm2 restart --update-env` merges, so a variable
 * unset since stays; the apps are therefore deleted and started again, which also applies
 * workers.instances. Nothing is lost: state, outbox and control requests live in SQLite.
 * A broken config exits 78 with the readable message before pm2 is touched (invariant 6).
 *   tsx scripts/start.ts [--no-build]
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { formatError } from "../src/cli/report-error.js";
import { loadConfig } from "../src/config/load.js";
import { readEnv } from "../src/env.js";
import { exitCodeFor } from "../src/errors.js";

const root = path.resolve(import.meta.dirname, "..");
const pm2Bin = path.join(root, "node_modules", ".bin", "pm2");
const APPS = new Set(["warden-supervisor", "warden-worker"]);

let env: ReturnType<typeof readEnv>;
let config: ReturnType<typeof loadConfig>;
try {
  env = readEnv(process.env);
  config = loadConfig(env.configFile);
} catch (err) {
  process.stderr.write(`${formatError(err)}\nnpm start: nothing was started or changed.\n`);
  process.exit(exitCodeFor(err));
}

const pm2 = (...args: string[]) =>
  execFileSync(pm2Bin, args, {
    cwd: root,
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  }).toString();

if (!process.argv.includes("--no-build"))
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
// A first pm2 call spawns the daemon and prints a banner before the JSON: the list is the last line.
const listed = pm2("jlist").trim().split("\n").at(-1) ?? "[]";
const registered = (JSON.parse(listed) as { name: string }[]).filter((p) => APPS.has(p.name));
if (registered.length > 0) pm2("delete", "ecosystem.config.cjs");
pm2("start", "ecosystem.config.cjs");
process.stdout.write(
  [
    `${registered.length > 0 ? "Restarted" : "Started"} warden-supervisor and ${config.workers.instances} warden-worker instance(s) with this shell's environment.`,
    `  config:   ${config.file}`,
    `  sessions: ${config.sessionsDir}`,
    `  data:     ${env.home}`,
    `  alerts:   ${env.telegramToken ? "Telegram (TELEGRAM_BOT_TOKEN set; the supervisor only)" : "supervisor log only (TELEGRAM_BOT_TOKEN not set)"}`,
    `  backups:  ${env.backupKey ? "encrypted (WARDEN_BACKUP_KEY set)" : "NOT encrypted: plaintext copies of creds.json; set WARDEN_BACKUP_KEY or WARDEN_BACKUP_KEY_FILE"}`,
    "Status: npm run warden -- status    Logs: npm run logs    Stop: npm stop",
    "",
  ].join("\n"),
);
