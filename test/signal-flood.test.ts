/**
 * The flood guard (invariant 22, Baileys issue 2234): 100,000 Bad MAC failures through the worker's
 * real logger path, in a child process with --expose-gc so the memory figures are its own. The
 * heap stays flat, the log holds one summary line per minute, and every failure is counted.
 * Timings are in `npm run bench:signals`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = path.join(repoRoot, "test/fixtures/signal-flood.ts");
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("100,000 decrypt failures: flat memory, one summary line per minute, every failure counted", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-flood-"));
  const log = path.join(dir, "worker.log");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--expose-gc", "--import", "tsx", FIXTURE, path.join(dir, "warden.db"), log, "100000", "guarded"],
    { cwd: repoRoot, timeout: 240_000 },
  );
  const figures = JSON.parse(stdout.trim()) as Record<string, number>;
  console.info(`signal flood: ${stdout.trim()}`);
  const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
  // The storm spans ten minutes of the fixture's clock: ten summaries, nothing else.
  expect(lines).toHaveLength(10);
  expect(lines.every((l) => l.includes('"msg":"Signals of storm in the minute from'))).toBe(true);
  expect(lines[0]).toContain("10000 decrypt-failure (Bad MAC 10000); 30000 log lines suppressed");
  expect(figures.stored).toBe(100_000);
  // Live objects do not grow with the failures; RSS only by the runtime's own young generation.
  expect(figures.heapGrowthMB).toBeLessThan(5);
  expect(figures.rssGrowthMB).toBeLessThan(30);
}, 300_000);
