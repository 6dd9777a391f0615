/**
 * `npm run bench:month`: the simulated fleet month (scripts/fleet-month.ts), 100 companies x 30
 * days with a 5-minute ladder check, the same month under wa-warden's shipped defaults and under
 * the seed's naive ladder, judged by the month's own harm model: forced re-pairings, live files
 * deleted, first-message failures caused, sockets stopped for nothing. BENCH_MONTH_COMPANIES /
 * BENCH_MONTH_DAYS shrink it.
 */
import { positiveInt } from "./bench-env.js";
import { simulateFleetMonth } from "./fleet-month.js";

const companies = positiveInt("BENCH_MONTH_COMPANIES", 100);
const days = positiveInt("BENCH_MONTH_DAYS", 30);
const r = simulateFleetMonth({ companies, days, seed: 8 });
const codes = Object.entries(r.disconnects)
  .map(([code, n]) => `${code} x${n}`)
  .join(", ");
console.log(`wa-warden simulated fleet month: ${r.companies} companies x ${r.days} days`);
console.log(`disconnects (the same under both policies): ${codes}`);
const head = [
  "policy",
  "forced re-pairings",
  "live files deleted",
  "first-message failures",
  "stops for nothing",
];
const lines = r.rows.map((row) => [
  row.policy === "defaults" ? "shipped defaults" : "seed's naive ladder",
  String(row.forcedRePairings),
  String(row.liveFilesDeleted),
  String(row.firstMessageFailures),
  `${row.socketsStoppedForNothing} of ${row.stops}`,
]);
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
for (const l of [head, ...lines]) console.log(l.map((c, i) => c.padEnd(widths[i] as number)).join("  "));
for (const row of r.rows)
  console.log(
    `${row.policy}: live files deleted by owner ${JSON.stringify(row.liveDeletedBy)}; files deleted ${row.filesDeleted}, resets ${row.resets}, pairings after a real 401 ${row.loggedOutPairings}, alerts ${JSON.stringify(row.alerts)}`,
  );
console.log(`took ${(r.ms / 1000).toFixed(1)} s`);
const defaults = r.rows.find((row) => row.policy === "defaults");
const ok =
  defaults !== undefined && defaults.forcedRePairings === 0 && defaults.socketsStoppedForNothing === 0;
console.log(
  `verdict (defaults: 0 forced re-pairings, 0 sockets stopped for nothing): ${ok ? "PASS" : "FAIL"}; live files the defaults deleted: ${defaults?.liveFilesDeleted ?? "n/a"} (a smart cleanup's age rules meeting a quiet contact who writes again within two days)`,
);
