/**
 * `npm run demo`: builds ./demo with fourteen simulated companies in different conditions (healthy,
 * stale sessions piling up, critical and cleaned by the ladder, disconnected for 20 minutes,
 * logged out, replaced, pairing, a Bad MAC storm; scripts/demo-fleet.ts) and starts the pm2
 * ecosystem on it with the simulated driver, on the default counting rule. It prints the
 * dashboard address with a token generated for the demo. No network, no WhatsApp account needed.
 * The demo runs apart from production (invariant 18): its own pm2 daemon (PM2_HOME=demo/pm2),
 * its own sessions and data folders, so it never stops, replaces or reconfigures the production
 * apps, and a later `npm start` cannot bring it back.
 *   tsx scripts/demo.ts start|stop [--dir <folder>] [--no-build]
 *   status: WARDEN_CONFIG=demo/config/warden.json WARDEN_HOME=demo/data npm run warden -- status
 *   logs:   PM2_HOME=demo/pm2 npm run logs
 *   stop:   npm run demo:stop
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildDemoFleet, DEMO_COMPANIES, DEMO_HTTP, demoLayout } from "./demo-fleet.js";

const root = path.resolve(import.meta.dirname, "..");
const pm2Bin = path.join(root, "node_modules", ".bin", "pm2");
const args = process.argv.slice(2);
const dirAt = args.indexOf("--dir");
const demo =
  dirAt >= 0 && args[dirAt + 1] ? path.resolve(args[dirAt + 1] as string) : path.join(root, "demo");
const { pm2Home, configDir, home } = demoLayout(demo);

/** Ends the demo's own pm2 daemon (and its apps); production's pm2 is never addressed. */
function stopDemo(): boolean {
  if (!existsSync(path.join(pm2Home, "pm2.pid"))) return false;
  execFileSync(pm2Bin, ["kill"], { cwd: root, env: { ...process.env, PM2_HOME: pm2Home }, stdio: "ignore" });
  return true;
}

async function main(): Promise<void> {
  if (existsSync(demo)) {
    stopDemo();
    rmSync(demo, { recursive: true, force: true });
  }
  await buildDemoFleet(demo, Date.now());
  // The dashboard needs a token: one for this demo, kept beside it (never production's).
  const token = randomBytes(16).toString("hex");
  writeFileSync(path.join(demo, "http-token"), `${token}\n`, { mode: 0o600 });
  const env = {
    ...process.env,
    PM2_HOME: pm2Home,
    WARDEN_CONFIG: path.join(configDir, "warden.json"),
    WARDEN_HOME: home,
    WARDEN_DRIVER: "simulated",
    WARDEN_HTTP_TOKEN: token,
  };
  if (!args.includes("--no-build")) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  execFileSync(pm2Bin, ["start", "ecosystem.config.cjs"], {
    cwd: root,
    env,
    stdio: "inherit",
  });
  console.log(
    `\nDemo fleet started (simulated driver, no network; counting rule: the defaults, stale files):`,
  );
  for (const [company, spec] of Object.entries(DEMO_COMPANIES))
    console.log(`  ${company.padEnd(20)} ${spec.note}`);
  const rel = (p: string) => path.relative(root, p) || ".";
  console.log(`\nDashboard: http://${DEMO_HTTP}/?token=${token}   (token also in ${rel(demo)}/http-token)`);
  console.log(
    `Status:    WARDEN_CONFIG=${rel(configDir)}/warden.json WARDEN_HOME=${rel(home)} npm run warden -- status`,
  );
  console.log(
    `Logs:      PM2_HOME=${rel(pm2Home)} npm run logs   (alerts without Telegram are in the supervisor's log)`,
  );
  console.log(
    `Cleanup:   WARDEN_CONFIG=${rel(configDir)}/warden.json WARDEN_HOME=${rel(home)} npm run warden -- cleanup hotel-warning --stop`,
  );
  console.log("Stop:      npm run demo:stop   (the demo's own pm2; production's apps are untouched)");
}

if (args[0] === "stop") {
  console.log(stopDemo() ? `Demo stopped (its pm2 daemon in ${pm2Home} ended).` : "No demo running.");
} else {
  await main();
}
