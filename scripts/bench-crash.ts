/**
 * `npm run bench:crash`: the kill -9 trials at their full counts (cleanup 40, backup 30, restore 40
 * kills in test/crash-safety.test.ts; 60 kills of a creds-update burst in test/auth-state.test.ts).
 * `npm test` runs the same trials with a few kills each so the suite stays under 5 minutes on a
 * loaded 2-core machine; this runs them with WARDEN_CRASH_TRIALS=full and prints each trial set's
 * figures (phases hit, temp files left) and the wall time (each trial set keeps the tests' 90 s
 * timeout: 12-28 s each here unloaded). Exit status: vitest's.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";

const repoRoot = path.resolve(import.meta.dirname, "..");
const started = performance.now();
const run = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "test/crash-safety.test.ts",
    "test/auth-state.test.ts",
    "-t",
    "kill -9|SIGKILL",
    "--reporter=verbose",
  ],
  { cwd: repoRoot, stdio: "inherit", env: { ...process.env, WARDEN_CRASH_TRIALS: "full" } },
);
const seconds = Math.round((performance.now() - started) / 1000);
console.log(`bench:crash: full trial counts in ${seconds} s, vitest exit ${run.status ?? run.signal}`);
process.exitCode = run.status ?? 1;
