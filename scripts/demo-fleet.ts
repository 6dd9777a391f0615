/**
 * The demo's fleet on disk (`npm run demo` runs it under pm2; test/demo-fleet.test.ts checks it):
 * fourteen companies with Baileys v7-shaped folders on the default counting rule (count.basis
 * "stale": a level means "a cleanup brings this down"). A folder holds creds.json, the pre-keys
 * the simulated driver uploads, live contacts (a fresh session and lid mapping each) and stale
 * sessions untouched for longer than cleanup.sessionMaxAge; some sessions "age in" (cross
 * sessionMaxAge a few seconds apart after the start), so a level rises while the demo runs.
 */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { companyDefaultsSchema } from "../src/config/schema.js";
import { databaseFile } from "../src/home-layout.js";
import { openStore } from "../src/store/store.js";
import { useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";

/** The default cleanup.sessionMaxAge (ms): aging files cross it one by one. */
const SESSION_MAX_AGE_MS = companyDefaultsSchema.parse({}).cleanup.sessionMaxAge;

/** One demo company: its folder and its simulated behaviour. */
export interface DemoCompany {
  paired: boolean;
  preKeys: number;
  /** Contacts with a fresh session and lid mapping (live files). */
  live: number;
  /** Sessions untouched for a month (stale: the next cleanup deletes them). */
  stale: number;
  /** Sessions that become stale after the start, one every `agingEvery`. */
  aging?: number;
  simulation: Record<string, unknown>;
  /** Other keys of the company file (liveness thresholds). */
  extra?: Record<string, unknown>;
  note: string;
}

/** A session ages in every 5 s after the start (the demo rescans every 15 s). */
export const AGING_EVERY_MS = 5_000;

/** The demo's companies, healthy first. */
export const DEMO_COMPANIES: Record<string, DemoCompany> = {
  "bakery-healthy": {
    paired: true,
    preKeys: 40,
    live: 40,
    stale: 5,
    simulation: { inboundEvery: "20s" },
    note: "connected, 40 contacts, 5 stale sessions, a message every 20 s: ok",
  },
  "clinic-healthy": {
    paired: true,
    preKeys: 90,
    live: 90,
    stale: 0,
    simulation: {},
    note: "connected, 90 contacts: ok",
  },
  "garage-growing": {
    paired: true,
    preKeys: 60,
    live: 30,
    stale: 110,
    aging: 60,
    simulation: { growPerMinute: 20 },
    note: "110 stale sessions, one more every 5 s: monitor within a minute, then warning",
  },
  "hotel-warning": {
    paired: true,
    preKeys: 60,
    live: 50,
    stale: 155,
    simulation: {},
    note: "155 stale sessions: warning; cleaned in the maintenance window",
  },
  "shop-critical": {
    paired: true,
    preKeys: 60,
    live: 60,
    stale: 186,
    simulation: {},
    note: "186 stale sessions: critical; the ladder's emergency cleanup brings it back to ok",
  },
  "taxi-down-20m": {
    paired: true,
    preKeys: 60,
    live: 40,
    stale: 0,
    simulation: { connect: false, disconnectCode: 428 },
    note: "disconnected for 20 minutes, reconnecting with backoff",
  },
  "dentist-flaky": {
    paired: true,
    preKeys: 50,
    live: 30,
    stale: 0,
    simulation: { disconnectAfter: "45s", disconnectCode: 428, recover: true },
    note: "drops every 45 s (428) and recovers",
  },
  "florist-loggedout": {
    paired: true,
    preKeys: 70,
    live: 30,
    stale: 0,
    simulation: { disconnectAfter: "3s", disconnectCode: 401, recover: false },
    note: "logged out (401): QR required, nothing deleted",
  },
  "gym-replaced": {
    paired: true,
    preKeys: 70,
    live: 30,
    stale: 0,
    simulation: { disconnectAfter: "5s", disconnectCode: 440, recover: false },
    note: "another client took the session (440): stopped, no loop",
  },
  "newco-pairing": {
    paired: false,
    preKeys: 0,
    live: 0,
    stale: 0,
    simulation: {},
    note: "no creds yet: pairing, QR on its page and in status",
  },
  "pharmacy-badmac": {
    paired: true,
    preKeys: 60,
    live: 40,
    stale: 0,
    simulation: { decryptFailuresPerMinute: 30, decryptReason: "Bad MAC" },
    note: "Bad MAC storm, 30/min: one decrypt-failure alert, signals on its page",
  },
  "cafe-deaf": {
    paired: true,
    preKeys: 50,
    live: 30,
    stale: 0,
    simulation: { inboundEvery: "15s", deafAfter: "2m" },
    extra: { liveness: { silentAfter: "2m", settleFor: "3m" } },
    note: "open but deaf after 2 min: one alert, a reconnect, then it hears again",
  },
  "travel-restricted": {
    paired: true,
    preKeys: 50,
    live: 30,
    stale: 0,
    simulation: { inboundEvery: "30s", restrictAfter: "30s", restrictFor: "2h" },
    note: "reachout timelock after 30 s: restricted (until when), one alert, no ladder action",
  },
  "salon-flapping": {
    paired: true,
    preKeys: 50,
    live: 30,
    stale: 0,
    simulation: { inboundEvery: "20s", disconnectAfter: "25s", disconnectCode: 428, recover: true },
    note: "drops every 25 s and comes back: flapping in the LIVENESS column",
  },
};

/** Where the demo lives. */
export interface DemoLayout {
  dir: string;
  sessions: string;
  configDir: string;
  home: string;
  pm2Home: string;
}

/** The demo's folders under `dir`. */
export function demoLayout(dir: string): DemoLayout {
  return {
    dir,
    sessions: path.join(dir, "sessions"),
    configDir: path.join(dir, "config"),
    home: path.join(dir, "data"),
    pm2Home: path.join(dir, "pm2"),
  };
}

/** The demo's HTTP address (apart from production's default 127.0.0.1:9480). */
export const DEMO_HTTP = "127.0.0.1:9481";

function hash(text: string): number {
  let h = 7;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

const peer = (company: string, n: number) =>
  `55${String(Math.abs(hash(company)))
    .padStart(9, "0")
    .slice(0, 9)}${String(n).padStart(3, "0")}`;

async function writeFolder(dir: string, company: string, spec: DemoCompany, now: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (!spec.paired) return;
  const { state, saveCreds, flush } = await useAtomicMultiFileAuthState(dir);
  state.creds.registered = true;
  state.creds.me = {
    id: `5511${String(Math.abs(hash(company))).slice(0, 9)}:1@s.whatsapp.net`,
    name: company,
  };
  await saveCreds();
  const sessions: Record<string, Uint8Array> = {};
  const lids: Record<string, string> = {};
  const total = spec.live + spec.stale + (spec.aging ?? 0);
  for (let n = 0; n < total; n++) {
    sessions[`${peer(company, n)}.0`] = new Uint8Array(64).fill(n % 251);
    if (n < spec.live) lids[peer(company, n)] = `${200000000000000 + n}`;
  }
  await state.keys.set({ session: sessions, "lid-mapping": lids });
  await flush();
  // Ages: live files are fresh; stale ones a month old; aging ones cross sessionMaxAge one by one.
  const month = new Date(now - 30 * 86_400_000);
  for (let n = spec.live; n < total; n++) {
    const file = path.join(dir, `session-${peer(company, n)}.0.json`);
    const agingIndex = n - spec.live - spec.stale;
    const at =
      agingIndex < 0 ? month : new Date(now - SESSION_MAX_AGE_MS + (agingIndex + 1) * AGING_EVERY_MS);
    utimesSync(file, at, at);
  }
}

/**
 * Writes the demo under `dir` (which must be empty or missing): config on the defaults (the
 * simulated driver, a fast rescan so aging sessions show up), the folders, and the history a
 * worker would have recorded before the start ("disconnected for 20 minutes").
 */
export async function buildDemoFleet(dir: string, now: number): Promise<DemoLayout> {
  const layout = demoLayout(dir);
  mkdirSync(path.join(layout.configDir, "companies"), { recursive: true });
  writeFileSync(
    path.join(layout.configDir, "warden.json"),
    `${JSON.stringify(
      {
        $schema: "../../config/warden.schema.json",
        sessionsDir: layout.sessions,
        driver: "simulated",
        workers: { instances: 2, heartbeatEvery: "2s", leaseTtl: "10s", deadAfter: "15s" },
        // Sessions age into staleness while the demo runs: rescan often enough to see it.
        scan: { reconcileEvery: "15s" },
        alerts: { remindEvery: "10m", hysteresis: 10 },
        // No network here: a probe to WhatsApp would always fail and hold the ladder as an outage.
        fleet: { probe: null },
        http: { listen: DEMO_HTTP },
      },
      null,
      2,
    )}\n`,
  );
  for (const [company, spec] of Object.entries(DEMO_COMPANIES)) {
    writeFileSync(
      path.join(layout.configDir, "companies", `${company}.json`),
      `${JSON.stringify({ simulation: { initialPreKeys: spec.preKeys, ...spec.simulation }, ...spec.extra }, null, 2)}\n`,
    );
    await writeFolder(path.join(layout.sessions, company), company, spec, now);
  }
  const store = openStore(databaseFile(layout.home));
  try {
    store.connections.transition(
      {
        company: "taxi-down-20m",
        to: "reconnecting",
        code: 428,
        message: "connection closed (before the demo)",
        holder: null,
      },
      now - 20 * 60_000,
    );
  } finally {
    store.close();
  }
  return layout;
}
