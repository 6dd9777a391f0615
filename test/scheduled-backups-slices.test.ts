import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { openStore } from "../src/store/store.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { countTurns } from "./helpers/loop-turns.js";
import { testSchedule } from "./helpers/scheduled-backups.js";
import { credsOnlySnapshot } from "./helpers/snapshot.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("the backup schedule's check", () => {
  it("looks at the fleet a page at a time, with event-loop turns between pages", async () => {
    const fx = new FleetFixture({ backups: { every: "1h", keep: 3 } });
    cleanups.push(() => fx.cleanup());
    const config = loadConfig(fx.configFile);
    const store = openStore(path.join(fx.home, "warden.db"));
    cleanups.push(() => store.close());
    const now = 1_800_000_000_000;
    const ids = Array.from({ length: 1_200 }, (_, i) => `c${String(i).padStart(4, "0")}`);
    for (const company of ids) store.companies.save(credsOnlySnapshot(company, now), 1);
    const clock = { now: () => now };
    const logger = fx.logger();
    const schedule = testSchedule({ store, clock, logger, config, home: fx.home });
    // No company has a backup: every one is due; the first by name is tried (its folder is
    // missing, so the try fails and is alerted) and the gap holds the others.
    expect(await schedule.check()).toBe(1);
    expect(store.cursors.get("backup-failed:c0000")).toBe(now);
    // The second check reads the newest backups from memory (no I/O, so no turn of its own).
    const { result, turns } = await countTurns(() => schedule.check());
    expect(result).toBe(0);
    // 1,200 companies in pages of 500: at least two turns while looking.
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});
