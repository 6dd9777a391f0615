/**
 * `npm run demo`: builds ./demo with ten simulated companies in different conditions (healthy,
 * pre-keys growing, disconnected for 20 minutes, logged out, replaced, pairing...) and starts the
 * pm2 ecosystem on it with the simulated driver. No network, no WhatsApp account needed.
 * The demo runs apart from production (issue 10, trap 2): its own pm2 daemon (PM2_HOME=demo/pm2),
 * its own sessions and data folders, so it never stops, replaces or reconfigures the production
 * apps, and a later `npm start` cannot bring it back.
 *   tsx scripts/demo.ts start|stop [--dir <folder>] [--no-build]
 *   status: WARDEN_CONFIG=demo/config/warden.json WARDEN_HOME=demo/data npm run warden -- status
 *   stop:   npm run demo:stop
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { databaseFile } from "../src/home-layout.js";
import { openStore } from "../src/store/store.js";
import { useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";

const root = path.resolve(import.meta.dirname, "..");
const pm2Bin = path.join(root, "node_modules", ".bin", "pm2");
const args = process.argv.slice(2);
const dirAt = args.indexOf("--dir");
const demo =
  dirAt >= 0 && args[dirAt + 1] ? path.resolve(args[dirAt + 1] as string) : path.join(root, "demo");
const pm2Home = path.join(demo, "pm2");
const sessions = path.join(demo, "sessions");
const configDir = path.join(demo, "config");
const home = path.join(demo, "data");

/** Scenario per company: simulation settings, and whether it starts paired. */
const companies: Record<
  string,
  {
    paired: boolean;
    preKeys: number;
    simulation: Record<string, unknown>;
    note: string;
    /** other keys of the company file (liveness thresholds) */
    extra?: Record<string, unknown>;
  }
> = {
  "bakery-healthy": {
    paired: true,
    preKeys: 40,
    simulation: { inboundEvery: "20s" },
    note: "connected, 40 pre-keys, a message every 20 s: liveness ok",
  },
  "clinic-healthy": { paired: true, preKeys: 90, simulation: {}, note: "connected, 90 pre-keys" },
  "garage-growing": {
    paired: true,
    preKeys: 110,
    simulation: { growPerMinute: 20 },
    note: "pre-keys growing 20/min: monitor, then warning",
  },
  "hotel-warning": { paired: true, preKeys: 155, simulation: {}, note: "155 files: warning alert at start" },
  "shop-critical": {
    paired: true,
    preKeys: 185,
    simulation: {},
    note: "185 files: critical alert, repeated",
  },
  "taxi-down-20m": {
    paired: true,
    preKeys: 60,
    simulation: { connect: false, disconnectCode: 428 },
    note: "disconnected for 20 minutes, reconnecting with backoff",
  },
  "dentist-flaky": {
    paired: true,
    preKeys: 50,
    simulation: { disconnectAfter: "45s", disconnectCode: 428, recover: true },
    note: "drops every 45 s (428) and recovers",
  },
  "florist-loggedout": {
    paired: true,
    preKeys: 70,
    simulation: { disconnectAfter: "3s", disconnectCode: 401, recover: false },
    note: "logged out (401): QR required, nothing deleted",
  },
  "gym-replaced": {
    paired: true,
    preKeys: 70,
    simulation: { disconnectAfter: "5s", disconnectCode: 440, recover: false },
    note: "another client took the session (440): stopped, no loop",
  },
  "newco-pairing": { paired: false, preKeys: 0, simulation: {}, note: "no creds yet: pairing, QR in status" },
  "pharmacy-badmac": {
    paired: true,
    preKeys: 60,
    simulation: { decryptFailuresPerMinute: 30, decryptReason: "Bad MAC" },
    note: "Bad MAC storm, 30/min: one decrypt-failure alert, status 'last 10m' line",
  },
  "cafe-deaf": {
    paired: true,
    preKeys: 50,
    simulation: { inboundEvery: "15s", deafAfter: "2m" },
    extra: { liveness: { silentAfter: "2m", settleFor: "3m" } },
    note: "open but deaf after 2 min: one alert, a reconnect, then it hears again",
  },
  "travel-restricted": {
    paired: true,
    preKeys: 50,
    simulation: { inboundEvery: "30s", restrictAfter: "30s", restrictFor: "2h" },
    note: "reachout timelock after 30 s: restricted (until when), one alert, no ladder action",
  },
  "salon-flapping": {
    paired: true,
    preKeys: 50,
    simulation: { inboundEvery: "20s", disconnectAfter: "25s", disconnectCode: 428, recover: true },
    note: "drops every 25 s and comes back: flapping in the LIVENESS column",
  },
};

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
  mkdirSync(path.join(configDir, "companies"), { recursive: true });
  writeFileSync(
    path.join(configDir, "warden.json"),
    `${JSON.stringify(
      {
        $schema: "../../config/warden.schema.json",
        sessionsDir: sessions,
        driver: "simulated",
        // The simulated folders hold a few dozen pre-keys, not Baileys v7's 812: count every file.
        preKeyReserve: 0,
        // Its files are all fresh (nothing stale): count them all, as `ls | wc -l` does, to show the
        // levels; the ladder then says "cleanup cannot help now" instead of stopping anyone (issue 8).
        count: { basis: "counted" },
        workers: { instances: 2, heartbeatEvery: "2s", leaseTtl: "10s", deadAfter: "15s" },
        alerts: { remindEvery: "10m", hysteresis: 10 },
        // No network here: a probe to WhatsApp would always fail and hold the ladder as an outage.
        fleet: { probe: null },
      },
      null,
      2,
    )}\n`,
  );
  for (const [company, spec] of Object.entries(companies)) {
    writeFileSync(
      path.join(configDir, "companies", `${company}.json`),
      `${JSON.stringify({ simulation: { initialPreKeys: spec.preKeys, ...spec.simulation }, ...spec.extra }, null, 2)}\n`,
    );
    const dir = path.join(sessions, company);
    mkdirSync(dir, { recursive: true });
    if (spec.paired) {
      const { state, saveCreds, flush } = await useAtomicMultiFileAuthState(dir);
      state.creds.registered = true;
      state.creds.me = {
        id: `55119${String(Math.abs(hash(company))).slice(0, 8)}:1@s.whatsapp.net`,
        name: company,
      };
      await saveCreds();
      await flush();
    }
  }
  // "Disconnected for 20 minutes": the history a worker would have recorded before this start.
  const store = openStore(databaseFile(home));
  const twentyMinutesAgo = Date.now() - 20 * 60_000;
  store.connections.transition(
    {
      company: "taxi-down-20m",
      to: "reconnecting",
      code: 428,
      message: "connection closed (before the demo)",
      holder: null,
    },
    twentyMinutesAgo,
  );
  store.close();

  const env = {
    ...process.env,
    PM2_HOME: pm2Home,
    WARDEN_CONFIG: path.join(configDir, "warden.json"),
    WARDEN_HOME: home,
    WARDEN_DRIVER: "simulated",
  };
  if (!args.includes("--no-build")) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  execFileSync(pm2Bin, ["start", "ecosystem.config.cjs"], {
    cwd: root,
    env,
    stdio: "inherit",
  });
  console.log("\nDemo fleet started (simulated driver, no network):");
  for (const [company, spec] of Object.entries(companies))
    console.log(`  ${company.padEnd(20)} ${spec.note}`);
  const rel = (p: string) => path.relative(root, p) || ".";
  console.log(
    `\nWatch it:  WARDEN_CONFIG=${rel(configDir)}/warden.json WARDEN_HOME=${rel(home)} npm run warden -- status`,
  );
  console.log(
    `Alerts:    PM2_HOME=${rel(pm2Home)} npx pm2 logs warden-supervisor   (the demo's own pm2; production's apps are untouched)`,
  );
  console.log("Stop:      npm run demo:stop");
}

function hash(text: string): number {
  let h = 7;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

if (args[0] === "stop") {
  console.log(stopDemo() ? `Demo stopped (its pm2 daemon in ${pm2Home} ended).` : "No demo running.");
} else {
  await main();
}
