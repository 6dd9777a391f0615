/**
 * `npm run bench:month`: the simulated fleet month (scripts/fleet-month.ts), 100 companies x 30
 * days with a 5-minute ladder check, the same month under wa-warden's shipped defaults and under
 * the seed's naive ladder, judged by the month's own harm model and the same live/stale rule
 * (LIVE_RULE, printed with the figures): forced re-pairings, live files deleted, first-message
 * failures caused, sockets stopped for nothing. Beside them, the defaults with `sessionMaxAge` 30d
 * and 60d (first-message failures against the shipped 14d; the default is not changed here).
 * Exits 1 with a FAIL line when the defaults force a re-pairing, delete a live file or stop a
 * socket for nothing. BENCH_MONTH_COMPANIES / BENCH_MONTH_DAYS shrink it.
 */
import { positiveInt } from "./bench-env.js";
import { LIVE_RULE, simulateFleetMonth } from "./fleet-month.js";

const companies = positiveInt("BENCH_MONTH_COMPANIES", 100);
const days = positiveInt("BENCH_MONTH_DAYS", 30);
const r = simulateFleetMonth({
  companies,
  days,
  seed: 8,
  variants: [
    { label: "defaults, sessionMaxAge 30d", cleanup: { sessionMaxAge: "30d" } },
    { label: "defaults, sessionMaxAge 60d", cleanup: { sessionMaxAge: "60d" } },
  ],
});
const codes = Object.entries(r.disconnects)
  .map(([code, n]) => `${code} x${n}`)
  .join(", ");
console.log(`wa-warden simulated fleet month: ${r.companies} companies x ${r.days} days`);
console.log(`disconnects (the same under every policy): ${codes}`);
console.log(`live vs stale (the same rule for every row): ${LIVE_RULE}`);
const head = [
  "policy",
  "forced re-pairings",
  "live files deleted",
  "first-message failures",
  "stops for nothing",
];
const names: Record<string, string> = { defaults: "shipped defaults", naive: "seed's naive ladder" };
const lines = r.rows.map((row) => [
  names[row.label] ?? row.label,
  String(row.forcedRePairings),
  String(row.liveFilesDeleted),
  String(row.firstMessageFailures),
  `${row.socketsStoppedForNothing} of ${row.stops}`,
]);
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
for (const l of [head, ...lines]) console.log(l.map((c, i) => c.padEnd(widths[i] as number)).join("  "));
for (const row of r.rows)
  console.log(
    `${row.label}: live files deleted by owner ${JSON.stringify(row.liveDeletedBy)}; stale files of quiet contacts who wrote again within two days ${row.quietBackWithinTwoDays}; files deleted ${row.filesDeleted}, resets ${row.resets}, pairings after a real 401 ${row.loggedOutPairings}, alerts ${JSON.stringify(row.alerts)}`,
  );
console.log(`took ${(r.ms / 1000).toFixed(1)} s`);
const defaults = r.rows.find((row) => row.label === "defaults");
const ok =
  defaults !== undefined &&
  defaults.forcedRePairings === 0 &&
  defaults.liveFilesDeleted === 0 &&
  defaults.socketsStoppedForNothing === 0;
console.log(
  `${ok ? "PASS" : "FAIL"}: the shipped defaults forced ${defaults?.forcedRePairings ?? "n/a"} re-pairings, deleted ${defaults?.liveFilesDeleted ?? "n/a"} live files and stopped ${defaults?.socketsStoppedForNothing ?? "n/a"} sockets for nothing (all must be 0)`,
);
if (!ok) process.exitCode = 1;
