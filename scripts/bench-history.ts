/**
 * `npm run bench:history`: the ladder's reads of connection history once it is long. transitions is
 * never pruned, so a fleet that has run for a month holds every reconnect of it. On a real SQLite
 * file of BENCH_HISTORY_COMPANIES (10,000) companies x BENCH_HISTORY_ROWS (60) transitions each
 * (30 days at two a day), then again after a connect storm (3 recent transitions per company):
 * - `liveness.failuresSince(window)`: the fleet correlation's one read per ladder pass;
 * - `connections.eventsOf` / `flapEventsOf` for every company, in chunks of 500 as a pass reads
 *   them (a pass asks only for the companies whose connection changed within the flap window, so
 *   this is the most a pass reads);
 * - `connections.eventsSince` for every company over the down-history window (60 days), as a
 *   first scan's snapshots read it.
 * Target: no read per pass over 50 ms (one statement is one event-loop block of the supervisor).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { DOWN_HISTORY_MS } from "../src/actions/cleanup/down-time.js";
import { openStore } from "../src/store/store.js";
import { positiveInt } from "./bench-env.js";

const COMPANIES = positiveInt("BENCH_HISTORY_COMPANIES", 10_000);
const ROWS = positiveInt("BENCH_HISTORY_ROWS", 60);
const CHUNK = 500;
const FLAP_WINDOW_MS = 3_600_000;
const TARGET_MS = 50;

const dir = mkdtempSync(path.join(os.tmpdir(), "warden-history-"));
const file = path.join(dir, "warden.db");
const now = Date.now();
const ids = Array.from({ length: COMPANIES }, (_, i) => `company-${String(i).padStart(5, "0")}`);
const chunks = Array.from({ length: Math.ceil(COMPANIES / CHUNK) }, (_, k) =>
  ids.slice(k * CHUNK, (k + 1) * CHUNK),
);

/** Inserts `rows` transitions per company, the newest `newestAgoMs` ago, `stepMs` apart. */
function addTransitions(rows: number, newestAgoMs: number, stepMs: number): void {
  const db = new Database(file);
  const insert = db.prepare(
    "INSERT INTO transitions (company, from_state, to_state, code, message, holder, at) VALUES (?, ?, ?, ?, NULL, 'w0', ?)",
  );
  db.transaction(() => {
    for (let r = rows - 1; r >= 0; r--)
      for (const [i, company] of ids.entries()) {
        const open = r % 2 === 0;
        insert.run(
          company,
          open ? "connecting" : "open",
          open ? "open" : "close",
          open ? null : 428,
          now - newestAgoMs - r * stepMs + (i % 1_000),
        );
      }
  })();
  db.close();
}

/** Median ms of 5 runs after a warm-up. */
function time(fn: () => unknown): number {
  fn();
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    fn();
    runs.push(performance.now() - t0);
  }
  return runs.sort((a, b) => a - b)[2] as number;
}

const results: { name: string; ms: number; perPass: boolean }[] = [];
try {
  openStore(file).close();
  const t0 = performance.now();
  addTransitions(ROWS, 2 * FLAP_WINDOW_MS, 12 * 3_600_000);
  console.log(
    `wa-warden bench:history: ${COMPANIES} companies x ${ROWS} transitions (${COMPANIES * ROWS} rows, written in ${Math.round(performance.now() - t0)} ms)`,
  );
  for (const phase of ["quiet", "after a connect storm"]) {
    if (phase !== "quiet") addTransitions(3, 60_000, 1_000);
    const store = openStore(file);
    const window = now - FLAP_WINDOW_MS;
    const tag = (name: string) => `${name} (${phase})`;
    results.push({
      name: tag("failuresSince, one per pass"),
      ms: time(() => store.liveness.failuresSince(window)),
      perPass: true,
    });
    results.push({
      name: tag(`eventsOf, ${chunks.length} chunks of ${CHUNK}`),
      ms: time(() => {
        for (const chunk of chunks) store.connections.eventsOf(chunk, window);
      }),
      perPass: false,
    });
    results.push({
      name: tag(`flapEventsOf, ${chunks.length} chunks of ${CHUNK}`),
      ms: time(() => {
        for (const chunk of chunks) store.connections.flapEventsOf(chunk, window);
      }),
      perPass: false,
    });
    results.push({
      name: tag(`eventsSince (down history) x ${COMPANIES}, one per snapshot`),
      ms: time(() => {
        for (const company of ids) store.connections.eventsSince(company, now - DOWN_HISTORY_MS);
      }),
      perPass: false,
    });
    store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const r of results) console.log(`${r.name}: ${r.ms.toFixed(2)} ms`);
const chunkWorst = Math.max(
  ...results.filter((r) => r.name.includes("chunks")).map((r) => r.ms / chunks.length),
);
const passWorst = Math.max(...results.filter((r) => r.perPass).map((r) => r.ms));
console.log(
  `longest single read ms: ${Math.max(chunkWorst, passWorst).toFixed(2)} (target <= ${TARGET_MS}) ${Math.max(chunkWorst, passWorst) <= TARGET_MS ? "PASS" : "FAIL"}`,
);
