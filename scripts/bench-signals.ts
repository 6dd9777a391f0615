/**
 * `npm run bench:signals`: a Bad MAC storm through the worker's logger path, guarded (signal
 * wrapper + console guard, one summary per minute) and raw (Baileys' logger as it was), in child
 * processes with --expose-gc. Prints time per failure, memory growth and log bytes.
 * SIGNAL_FLOOD_COUNT (default 100,000).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { positiveInt } from "./bench-env.js";

const count = positiveInt("SIGNAL_FLOOD_COUNT", 100_000);
const fixture = path.resolve("test/fixtures/signal-flood.ts");
for (const mode of ["guarded", "raw"]) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "warden-bench-flood-"));
  try {
    const out = execFileSync(
      process.execPath,
      [
        "--expose-gc",
        "--import",
        "tsx",
        fixture,
        path.join(dir, "w.db"),
        path.join(dir, "w.log"),
        String(count),
        mode,
      ],
      { encoding: "utf8" },
    );
    const f = JSON.parse(out) as Record<string, number>;
    console.log(
      `${mode.padEnd(8)} ${count} failures: ${f.perFailureUs} µs each, RSS +${f.rssGrowthMB} MB, heap +${f.heapGrowthMB} MB, log ${(Number(f.logBytes) / 1024).toFixed(1)} KiB, counted ${f.stored}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
