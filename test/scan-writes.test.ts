import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FleetScanner } from "../src/fleet/fleet-scanner.js";
import type { FolderSnapshot } from "../src/fleet/scan-folder.js";
import { SCANNED_AT_REFRESH_MS } from "../src/store/companies.js";
import { openStore, type Store } from "../src/store/store.js";
import { tempDir } from "./helpers/temp-dir.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A sessions folder of `n` companies with a creds.json and a few key files each. */
function fleet(n: number): string {
  const sessionsDir = path.join(tempDir(), "sessions");
  for (let i = 0; i < n; i++) {
    const dir = path.join(sessionsDir, `c${String(i).padStart(3, "0")}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "creds.json"), "{}");
    for (let f = 0; f < 5; f++) writeFileSync(path.join(dir, `session-55${f}.0.json`), "{}");
  }
  return sessionsDir;
}

/** One full scan with a scanner (no watching) whose clock reads `now`. */
async function fullScan(
  sessionsDir: string,
  now: number,
  slicing: { batchSize?: number; batchFiles?: number } = {},
): Promise<FolderSnapshot[][]> {
  const slices: FolderSnapshot[][] = [];
  const scanner = new FleetScanner({
    sessionsDir,
    debounceMs: 30,
    reconcileEveryMs: 3_600_000,
    logger: pino({ level: "silent" }),
    clock: { now: () => now },
    watch: false,
    ...slicing,
    onSnapshots: (snapshots) => slices.push(snapshots),
    onRemoved: () => undefined,
    onReport: () => undefined,
  });
  await scanner.start();
  await scanner.close();
  return slices;
}

describe("a full scan writes only what changed", () => {
  let store: Store;
  const open = () => {
    store = openStore(path.join(tempDir(), "warden.db"));
    cleanups.push(() => store.close());
  };
  const saveAll = (slices: FolderSnapshot[][]) =>
    slices.flat().filter((snapshot) => store.companies.save(snapshot, snapshot.total)).length;

  it("writes every row once, 0 rows for unchanged folders, the changed one, and refreshes after 10 minutes", async () => {
    open();
    const sessionsDir = fleet(30);
    const t0 = 1_800_000_000_000;
    expect(saveAll(await fullScan(sessionsDir, t0))).toBe(30);
    expect(saveAll(await fullScan(sessionsDir, t0 + 60_000))).toBe(0);
    expect(store.companies.get("c007")?.scannedAt).toBe(t0);
    writeFileSync(path.join(sessionsDir, "c007", "session-999.0.json"), "{}");
    expect(saveAll(await fullScan(sessionsDir, t0 + 120_000))).toBe(1);
    expect(store.companies.get("c007")).toMatchObject({ total: 7, scannedAt: t0 + 120_000 });
    expect(store.companies.history("c007", 0).map((h) => h.total)).toEqual([6, 7]);
    // The freshness of the others is refreshed, at most every SCANNED_AT_REFRESH_MS.
    expect(saveAll(await fullScan(sessionsDir, t0 + SCANNED_AT_REFRESH_MS + 1))).toBe(29);
    expect(store.companies.get("c000")?.scannedAt).toBe(t0 + SCANNED_AT_REFRESH_MS + 1);
  });

  it("writes a row again when its folder comes back after being marked removed", async () => {
    open();
    const sessionsDir = fleet(2);
    const t0 = 1_800_000_000_000;
    saveAll(await fullScan(sessionsDir, t0));
    expect(store.companies.markRemoved("c001", t0 + 1)).toBe(true);
    expect(saveAll(await fullScan(sessionsDir, t0 + 2))).toBe(1);
    expect(store.companies.get("c001")?.removedAt).toBeNull();
  });
});

describe("a full scan hands its snapshots over in slices", () => {
  it("covers every company exactly once, in company order, one slice per scan batch", async () => {
    const sessionsDir = fleet(53); // 6 files a folder
    // At most 50 folders a batch...
    const slices = await fullScan(sessionsDir, Date.now());
    expect(slices.map((s) => s.length)).toEqual([50, 3]);
    // ...and a batch ends once it holds batchFiles files: 5 folders of 6 reach 30.
    const byFiles = await fullScan(sessionsDir, Date.now(), { batchFiles: 30 });
    expect(byFiles.map((s) => s.length)).toEqual([...Array(10).fill(5), 3]);
    const uneven = await fullScan(sessionsDir, Date.now(), { batchSize: 7 });
    expect(uneven.map((s) => s.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 4]);
    const companies = slices.flat().map((s) => s.company);
    expect(companies).toEqual(Array.from({ length: 53 }, (_, i) => `c${String(i).padStart(3, "0")}`));
  });
});

describe("stat sweeps", () => {
  it("a reconcile between sweeps stats only new names; the sweep every statSweepEveryMs stats all again", async () => {
    const sessionsDir = fleet(1);
    const dir = path.join(sessionsDir, "c000");
    let now = Date.now();
    const seen: FolderSnapshot[] = [];
    const scanner = new FleetScanner({
      sessionsDir,
      debounceMs: 30,
      reconcileEveryMs: 3_600_000,
      logger: pino({ level: "silent" }),
      clock: { now: () => now },
      watch: false,
      statSweepEveryMs: 600_000,
      onSnapshots: (snapshots) => seen.push(...snapshots),
      onRemoved: () => undefined,
      onReport: () => undefined,
    });
    cleanups.push(() => scanner.close());
    await scanner.start();
    const first = seen.at(-1)?.mtimes.get("session-550.0.json") as number;
    const old = new Date(Date.now() - 30 * 86_400_000);
    utimesSync(path.join(dir, "session-550.0.json"), old, old);
    writeFileSync(path.join(dir, "session-777.0.json"), "{}");
    utimesSync(path.join(dir, "session-777.0.json"), old, old);
    now += 60_000;
    await scanner.fullScan();
    // The known file keeps the age the sweep saw; the new one is stat'ed, not dated now.
    expect(seen.at(-1)?.mtimes.get("session-550.0.json")).toBe(first);
    // utimes stores the time in nanoseconds and stat's mtimeMs is a float of it: 540.999 for 541.
    expect(seen.at(-1)?.mtimes.get("session-777.0.json")).toBeCloseTo(old.getTime(), 0);
    now += 600_000;
    await scanner.fullScan();
    expect(seen.at(-1)?.mtimes.get("session-550.0.json")).toBeCloseTo(old.getTime(), 0);
  });
});
