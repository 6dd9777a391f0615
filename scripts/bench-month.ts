/**
 * `npm run bench:month`: a simulated fleet month (scripts/fleet-month.ts) at full size, 100
 * companies x 30 days with a 5-minute ladder check, printing what the ladder did: resets (and those
 * without key-state evidence), stops for a cleanup (and those below ladder.minCleanupFiles), stale
 * counts, every 401 and whether it got its QR. BENCH_MONTH_COMPANIES / BENCH_MONTH_DAYS shrink it.
 */
import { positiveInt } from "./bench-env.js";
import { simulateFleetMonth } from "./fleet-month.js";

const companies = positiveInt("BENCH_MONTH_COMPANIES", 100);
const days = positiveInt("BENCH_MONTH_DAYS", 30);
const r = simulateFleetMonth({ companies, days, seed: 8 });
const codes = Object.entries(r.disconnects)
  .map(([code, n]) => `${code} x${n}`)
  .join(", ");
console.log(
  `wa-warden simulated fleet month: ${r.companies} companies x ${r.days} days, ${r.checks} ladder checks`,
);
console.log(`disconnects: ${codes}`);
console.log(`resets: ${r.resets} (without key-state evidence: ${r.resetsWithoutEvidence})`);
console.log(
  `stops for a cleanup: ${r.stops} (below ladder.minCleanupFiles: ${r.stopsBelowMinCleanupFiles}; smallest ${r.smallestStopDeleted ?? "n/a"} files)`,
);
console.log(`cleanups while down: ${r.cleanupsWhileDown}; files deleted: ${r.filesDeleted}`);
console.log(
  `own user's files deleted: ${r.ownFilesDeleted}; files younger than minAge deleted: ${r.youngFilesDeleted}`,
);
console.log(
  `401 logged out: ${r.loggedOut}, with QR required: ${r.loggedOutWithQr} (QR required in all: ${r.qrRequired})`,
);
console.log(
  `stale files: max ${r.maxStale} (${r.maxStaleCompany}, history before the month), after day 1 max ${r.maxStaleSteady}; at the end p50 ${r.finalStale.p50}, p95 ${r.finalStale.p95}, max ${r.finalStale.max}; largest folder ${r.maxTotal} files`,
);
console.log(`levels at the end: ${JSON.stringify(r.finalLevels)}`);
console.log(`ladder alerts: ${JSON.stringify(r.alerts)}`);
console.log(`took ${(r.ms / 1000).toFixed(1)} s`);
const ok =
  r.resetsWithoutEvidence === 0 &&
  r.stopsBelowMinCleanupFiles === 0 &&
  r.loggedOut === r.loggedOutWithQr &&
  r.ownFilesDeleted === 0;
console.log(`verdict: ${ok ? "PASS" : "FAIL"}`);
