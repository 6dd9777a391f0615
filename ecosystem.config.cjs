// pm2 ecosystem of wa-warden. `npm start` (scripts/start.ts) checks the config, builds, and starts
// these apps afresh with the pm2 from node_modules, so the environment (TELEGRAM_BOT_TOKEN,
// WARDEN_CONFIG, WARDEN_HOME...) and workers.instances are always those of the shell running it.
// Per-app environments: only the supervisor gets the bot and HTTP tokens (see filter_env).
const fs = require("node:fs");
const path = require("node:path");

/**
 * workers.instances from the warden.json in force (WARDEN_CONFIG or config/warden.json). A file
 * that cannot be read gives 1 with a warning: `npm stop` must work with a broken config, and
 * `npm start` (scripts/start.ts) has refused a broken config with exit 78 before pm2 reads this.
 */
function workerInstances() {
  const file = path.resolve(__dirname, process.env.WARDEN_CONFIG ?? path.join("config", "warden.json"));
  let n;
  try {
    n = JSON.parse(fs.readFileSync(file, "utf8")).workers?.instances ?? 1;
  } catch (err) {
    console.error(
      `ecosystem.config.cjs: cannot read ${file}: ${err.message} (run: npm run warden -- config check)`,
    );
    return 1;
  }
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    console.error(
      `ecosystem.config.cjs: workers.instances in ${file} must be a whole number 1-64, got ${JSON.stringify(n)}`,
    );
    return 1;
  }
  return n;
}

module.exports = {
  apps: [
    {
      name: "warden-supervisor",
      script: path.join(__dirname, "dist", "supervisor", "main.js"),
      cwd: __dirname,
      exec_mode: "fork",
      instances: 1,
      // Ready (process.send("ready")) once it serves; the first full scan of sessionsDir runs on
      // (GET /readyz is 503 until it is done).
      wait_ready: true,
      listen_timeout: 120_000,
      // SIGINT first; the supervisor flushes alerts for up to WARDEN_FLUSH_MS (5 s) before exiting.
      kill_timeout: 15_000,
      exp_backoff_restart_delay: 200,
      // 78 = configuration error: restarting cannot help until someone fixes the file.
      stop_exit_codes: [78],
      max_memory_restart: "400M",
      // V8's young generation capped at 2 MB per semi-space (default 16): the scans' short-lived
      // garbage is collected sooner instead of filling up to 48 MB of resident memory (rss at 1k
      // companies ~130 -> ~105 MB, see README "Memory"). Old space is left uncapped: 10k companies need it.
      node_args: ["--max-semi-space-size=2"],
      time: true,
      env: { NODE_ENV: "production" },
    },
    {
      name: "warden-worker",
      script: path.join(__dirname, "dist", "worker", "main.js"),
      cwd: __dirname,
      // Fork mode, N instances: pm2 numbers them with NODE_APP_INSTANCE (0..N-1); instance k owns
      // the companies whose id hashes to k. Leases in SQLite make sure no company is held twice.
      exec_mode: "fork",
      instances: workerInstances(),
      instance_var: "NODE_APP_INSTANCE",
      wait_ready: true,
      listen_timeout: 60_000,
      // SIGINT: close every socket without logging out, flush creds, release leases.
      kill_timeout: Number(process.env.WARDEN_WORKER_KILL_TIMEOUT_MS ?? 15_000),
      exp_backoff_restart_delay: 200,
      stop_exit_codes: [78],
      // The workers hold WhatsApp sockets, not the bot or the HTTP side: they get neither token
      // (pm2 drops every variable whose name contains one of these, the *_FILE forms included).
      // WARDEN_BACKUP_KEY stays: a worker seals the creds snapshots it writes with it.
      filter_env: ["TELEGRAM_BOT_TOKEN", "WARDEN_HTTP_TOKEN"],
      max_memory_restart: "1G",
      time: true,
      env: { NODE_ENV: "production" },
    },
  ],
};
