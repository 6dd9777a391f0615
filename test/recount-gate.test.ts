import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { FleetScanner } from "../src/fleet/fleet-scanner.js";
import { scanFolderSync } from "../src/fleet/scan-folder.js";
import { openStore, type Store } from "../src/store/store.js";
import { createAlertQueue } from "../src/supervisor/alert-queue.js";
import {
  createRecountGate,
  nextAgeBoundary,
  RECOUNT_AT_LEAST_EVERY_MS,
} from "../src/supervisor/recount-gate.js";
import { createSnapshotIntake } from "../src/supervisor/snapshot-intake.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { tempDir } from "./helpers/temp-dir.js";

const DAY = 86_400_000;
const MIN = 60_000;
const cleanups: (() => unknown)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A company whose one sender-key-memory file (senderKeyMaxAge 3 days by default) was written at `mtime`. */
function setup(mtime: number) {
  const fx = new FleetFixture();
  const dir = path.join(fx.sessionsDir, "acme");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "creds.json"), "{}");
  const file = path.join(dir, "sender-key-memory-120363@g.us.json");
  writeFileSync(file, "{}");
  utimesSync(file, mtime / 1000, mtime / 1000);
  const store: Store = openStore(path.join(tempDir(), "warden.db"));
  cleanups.push(() => store.close());
  let now = 0;
  const clock = { now: () => now };
  const config = loadConfig(fx.configFile);
  const logger = pino({ level: "silent" });
  const alerts = createAlertQueue({ store, notifiers: new Map(), clock, logger, config: () => config });
  const intake = createSnapshotIntake({
    store,
    clock,
    logger,
    config: () => config,
    home: undefined,
    alerts,
    kick: () => undefined,
    closed: () => false,
  });
  /** One reconcile snapshot of acme at `at`, taken in; the company's stale count afterwards. */
  const reconcile = (at: number): number | undefined => {
    now = at;
    intake.snapshots([scanFolderSync(dir, "acme", at)], true);
    return store.companies.get("acme")?.stale;
  };
  return { dir, store, reconcile, config };
}

describe("the reconcile recounts only companies whose count can have changed", () => {
  it("a file crossing its age is counted stale at the first reconcile after it, with a fake clock", () => {
    const t0 = Date.UTC(2026, 0, 10);
    // senderKeyMaxAge 3 days, held by minAge 7 days: stale 90 s after t0
    const written = t0 - 7 * DAY + 90 * 1000;
    const { reconcile } = setup(written);
    expect(reconcile(t0)).toBe(0);
    expect(reconcile(t0 + 60 * 1000)).toBe(0);
    expect(reconcile(t0 + 89_999)).toBe(0);
    expect(reconcile(t0 + 90 * 1000)).toBe(1); // minAge is inclusive: 7 days old may go
  });

  it("an unchanged company is not counted again before its next age boundary", () => {
    const t0 = Date.UTC(2026, 0, 10);
    const { dir, store, reconcile } = setup(t0 - DAY);
    // Each count reads the company's down history once: the spy counts the counts.
    const counts = vi.spyOn(store.connections, "eventsSince");
    expect(reconcile(t0)).toBe(0);
    expect(counts).toHaveBeenCalledTimes(1);
    reconcile(t0 + 1 * MIN);
    reconcile(t0 + 5 * MIN);
    expect(counts).toHaveBeenCalledTimes(1);
    // A change (a new file) is counted at once.
    writeFileSync(path.join(dir, "session-5511.0.json"), "{}");
    const snapshotTotal = () => store.companies.get("acme")?.total;
    reconcile(t0 + 6 * MIN);
    expect(counts).toHaveBeenCalledTimes(2);
    expect(snapshotTotal()).toBe(3);
  });

  it("the gate: due on a change, a config change and after the boundary; not due otherwise", () => {
    const t0 = Date.UTC(2026, 0, 10);
    const { dir, config } = setup(t0 - DAY);
    const gate = createRecountGate();
    const snap = scanFolderSync(dir, "acme", t0);
    const settings = { cleanup: config.defaults.cleanup };
    expect(gate.due(snap, config, t0)).toBe(true);
    gate.counted(snap, config, settings, [], "ok", t0);
    expect(gate.due(snap, config, t0 + MIN)).toBe(false);
    expect(gate.due(snap, config, t0 + RECOUNT_AT_LEAST_EVERY_MS)).toBe(true);
    expect(gate.due(snap, { ...config }, t0 + MIN)).toBe(true);
    gate.counted(snap, config, settings, [], "ok", t0);
    writeFileSync(path.join(dir, "tctoken-5511.json"), "{}");
    expect(gate.due(scanFolderSync(dir, "acme", t0 + MIN), config, t0 + MIN)).toBe(true);
    // A critical level is always counted: its reminders are due by time.
    gate.counted(snap, config, settings, [], "critical", t0);
    expect(gate.due(snap, config, t0 + MIN)).toBe(true);
  });

  it("the boundary is the nearest age a rule uses, with the down time taken out", () => {
    const now = Date.UTC(2026, 0, 10);
    const cleanup = {
      minAge: 7 * DAY,
      sessionMaxAge: 14 * DAY,
      senderKeyMaxAge: 3 * DAY,
      foreignSenderKeyMaxAge: 30 * DAY,
    } as never;
    const mtimes = new Map([["sender-key-memory-1@g.us.json", now - 3 * DAY + 1000]]);
    expect(nextAgeBoundary(mtimes, { cleanup }, [], now)).toBe(now + 1000);
    // Down for the last 2 minutes: the file's idle time is 2 minutes shorter, so it crosses 2 minutes later.
    const down = [{ from: now - 120_000, to: now }];
    expect(nextAgeBoundary(mtimes, { cleanup }, down, now)).toBe(now + 1000 + 120_000);
    expect(nextAgeBoundary(new Map(), { cleanup }, [], now)).toBe(now + RECOUNT_AT_LEAST_EVERY_MS);
  });
});

describe("a reconcile between stat sweeps skips unchanged folders whose count is not due", () => {
  it("lists a folder again only when it or its creds.json changed, or its count is due", async () => {
    const fx = new FleetFixture();
    const dir = path.join(fx.sessionsDir, "acme");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "creds.json"), "{}");
    writeFileSync(path.join(dir, "session-5511.0.json"), "{}");
    let due = false;
    const delivered: string[] = [];
    const scanner = new FleetScanner({
      sessionsDir: fx.sessionsDir,
      debounceMs: 30,
      reconcileEveryMs: 3_600_000,
      statSweepEveryMs: 3_600_000,
      logger: pino({ level: "silent" }),
      clock: { now: () => Date.now() },
      watch: false,
      countDue: () => due,
      onSnapshots: (snapshots) => delivered.push(...snapshots.map((s) => s.company)),
      onRemoved: () => undefined,
      onReport: () => undefined,
    });
    cleanups.push(() => void scanner.close());
    await scanner.start(); // the first scan, a stat sweep: always listed
    expect(delivered).toEqual(["acme"]);
    await scanner.fullScan();
    expect(delivered).toEqual(["acme"]);
    // creds.json rewritten in place (the folder's own stat unchanged): listed again.
    writeFileSync(path.join(dir, "creds.json"), '{"me":{}}');
    await scanner.fullScan();
    expect(delivered).toEqual(["acme", "acme"]);
    await scanner.fullScan();
    // A new file changes the folder's stat.
    writeFileSync(path.join(dir, "session-5512.0.json"), "{}");
    await scanner.fullScan();
    expect(delivered).toEqual(["acme", "acme", "acme"]);
    // Nothing changed but the count is due (a file crossing its age): listed.
    due = true;
    await scanner.fullScan();
    expect(delivered).toEqual(["acme", "acme", "acme", "acme"]);
  });
});
