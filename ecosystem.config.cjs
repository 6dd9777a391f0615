// pm2 ecosystem of wa-warden. `npm start` builds and runs `pm2 start ecosystem.config.cjs` with the
// pm2 from node_modules. Environment (TELEGRAM_BOT_TOKEN, WARDEN_CONFIG, WARDEN_HOME...) is taken from
// the shell that starts pm2.
const path = require("node:path");

module.exports = {
  apps: [
    {
      name: "warden-supervisor",
      script: path.join(__dirname, "dist", "supervisor", "main.js"),
      cwd: __dirname,
      exec_mode: "fork",
      instances: 1,
      // Ready (process.send("ready")) only after the first full scan of sessionsDir.
      wait_ready: true,
      listen_timeout: 120_000,
      // SIGINT first; the supervisor flushes alerts for up to WARDEN_FLUSH_MS (5 s) before exiting.
      kill_timeout: 15_000,
      exp_backoff_restart_delay: 200,
      // 78 = configuration error: restarting cannot help until someone fixes the file.
      stop_exit_codes: [78],
      max_memory_restart: "400M",
      time: true,
      env: { NODE_ENV: "production" },
    },
    // warden-worker (Baileys connections, N instances) joins here: see issue "Workers".
  ],
};
