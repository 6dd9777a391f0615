/**
 * `npm run bench:http`: how long a Prometheus scrape of the fleet takes.
 *
 * Fills a fresh database (under os.tmpdir(), removed at the end) with BENCH_COMPANIES (1,000)
 * companies as the supervisor stores them (counts, alert levels, connection states, ladder steps),
 * starts the real HTTP server on 127.0.0.1:0 and times BENCH_SCRAPES (50) GET /metrics over the
 * network after one warm-up, then the same for GET /api/companies. Target: a scrape under 100 ms.
 * Prints the figures; PASS/FAIL does not change the exit status.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pino from "pino";
import { LEVELS } from "../src/alerts/evaluate-thresholds.js";
import { loadConfig } from "../src/config/load.js";
import type { CategoryCounts } from "../src/fleet/classify-file.js";
import { createHttpServer } from "../src/http/server.js";
import { openStore } from "../src/store/store.js";
import { positiveInt } from "./bench-env.js";

const COMPANIES = positiveInt("BENCH_COMPANIES", 1_000);
const SCRAPES = positiveInt("BENCH_SCRAPES", 50);
const TARGET_MS = 100;

const root = mkdtempSync(path.join(os.tmpdir(), "warden-bench-http-"));
const store = openStore(path.join(root, "warden.db"));
try {
  const now = Date.now();
  store.transaction(() => {
    for (let i = 0; i < COMPANIES; i++) {
      const company = `company-${String(i).padStart(4, "0")}`;
      const total = 80 + (i % 150);
      store.companies.save(
        {
          company,
          scannedAt: now,
          total,
          byCategory: {
            session: total - 20,
            "pre-key": 15,
            creds: 1,
            "app-state": 4,
          } as unknown as CategoryCounts,
          preKeys: 15,
          maxPreKeyId: 900,
          creds: { state: "ok" },
          newestWriteAt: now,
          irregular: [],
          names: [],
          mtimes: new Map(),
          ownUsers: null,
          newestPreKeyId: null,
        },
        {
          counted: total - 40,
          basis: "stale",
          stale: total - 40,
          reserve: 15,
          heldByMinAge: 0,
          heldUntil: null,
        },
      );
      store.alertState.put(
        company,
        { level: LEVELS[i % 5] ?? "ok", levelSince: now, lastAlertAt: null },
        now,
      );
      store.connections.transition(
        { company, to: i % 10 === 0 ? "close" : "open", code: null, message: null, holder: "w0" },
        now - 60_000,
      );
      if (i % 4 === 0) store.ladder.addStep(company, "reconnect", "down", "reconnect requested (#1)", now);
    }
    store.workers.register({ holder: "w0", instance: 0, pid: process.pid, pmId: null }, now);
  });
  const configFile = path.join(root, "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir: root }));
  const config = loadConfig(configFile);
  const server = createHttpServer({
    address: { host: "127.0.0.1", port: 0 },
    token: "bench-token",
    store,
    config: () => config,
    now: () => Date.now(),
    logger: pino({ level: "silent" }),
    firstScanDone: () => true,
  });
  const address = await server.listen();
  const time = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    await res.text(); // warm-up
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const started = performance.now();
      const r = await fetch(url, { headers });
      bytes = (await r.text()).length;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
    return { p50: at(0.5), p95: at(0.95), max: at(1), bytes };
  };
  const metrics = await time(`http://${address}/metrics`);
  const api = await time(`http://${address}/api/companies`, { authorization: "Bearer bench-token" });
  await server.close();
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  console.log(
    `bench:http  ${COMPANIES} companies, ${SCRAPES} requests each over 127.0.0.1 (after one warm-up)`,
  );
  console.log(
    `GET /metrics        p50 ${fmt(metrics.p50)}  p95 ${fmt(metrics.p95)}  max ${fmt(metrics.max)}  (${(metrics.bytes / 1024).toFixed(0)} KiB)  target p95 < ${TARGET_MS} ms: ${metrics.p95 < TARGET_MS ? "PASS" : "FAIL"}`,
  );
  console.log(
    `GET /api/companies  p50 ${fmt(api.p50)}  p95 ${fmt(api.p95)}  max ${fmt(api.max)}  (${(api.bytes / 1024).toFixed(0)} KiB)`,
  );
} finally {
  store.close();
  rmSync(root, { recursive: true, force: true });
}
