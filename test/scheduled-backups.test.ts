import { rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listBackups } from "../src/actions/backup/backup.js";
import { loadConfig } from "../src/config/load.js";
import { openStore, type Store } from "../src/store/store.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { testSchedule } from "./helpers/scheduled-backups.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
let fx: FleetFixture;
let store: Store | undefined;
afterEach(async () => {
  store?.close();
  store = undefined;
  await fx?.cleanup();
});

describe("scheduled backups (backups.every)", () => {
  it("keep every company's newest verified backup within backups.every, one at a time, staggered; an action's hold skips; a failure alerts once", async () => {
    fx = new FleetFixture({ backups: { every: "1h", keep: 3 } });
    for (const c of ["acme", "bistro", "cafe"]) fx.setFileCount(c, 5);
    const first = await fx.startSupervisor({ token: null, watch: false });
    await fx.stopSupervisor(first.supervisor);

    let now = Date.parse("2026-12-02T10:00:00Z");
    const clock = { now: () => now };
    store = openStore(path.join(fx.home, "warden.db"));
    const config = loadConfig(fx.configFile);
    const logger = fx.logger();
    const busy = new Set<string>();
    const schedule = testSchedule({ store, clock, logger, config, home: fx.home, busy });
    const root = path.join(fx.home, "backups");
    const newestAge = async (company: string) => {
      const [newest] = await listBackups(root, company);
      return newest ? now - Date.parse(newest.createdAt) : Number.POSITIVE_INFINITY;
    };

    // Staggered: 3 companies in 1 h are at least 5 min apart (the cap), never two in one pass.
    expect(await schedule.check()).toBe(1);
    expect(await schedule.check()).toBe(0);
    now += 5 * MIN;
    expect(await schedule.check()).toBe(1);
    now += 5 * MIN;
    expect(await schedule.check()).toBe(1);

    // Three simulated hours in 5-minute passes: no company's newest backup is ever older than 1 h.
    let worst = 0;
    for (let step = 0; step < 36; step++) {
      now += 5 * MIN;
      await schedule.check();
      for (const c of ["acme", "bistro", "cafe"]) worst = Math.max(worst, await newestAge(c));
    }
    expect(worst).toBeLessThanOrEqual(HOUR);
    const acme = await listBackups(root, "acme");
    expect(acme).toHaveLength(3); // backups.keep
    expect(acme[0]?.reason).toBe("scheduled");
    expect(store.backupVerifications.of("acme").get(acme[0]?.name as string)?.ok).toBe(true);
    expect(
      store.audit
        .list("acme")
        .filter((r) => r.action === "backup")
        .every((r) => r.actor === "warden:schedule"),
    ).toBe(true);

    // While the ladder holds acme, its due backup waits.
    busy.add("acme");
    const before = (await listBackups(root, "acme"))[0]?.name;
    for (let step = 0; step < 14; step++) {
      now += 5 * MIN;
      await schedule.check();
    }
    expect((await listBackups(root, "acme"))[0]?.name).toBe(before);
    busy.clear();

    // A company whose folder is gone fails: one alert, not one per pass.
    rmSync(path.join(fx.sessionsDir, "cafe"), { recursive: true });
    for (let step = 0; step < 30; step++) {
      now += 5 * MIN;
      await schedule.check();
    }
    const failed = store.outbox.list().filter((r) => r.kind === "backup-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.text).toContain("Scheduled backup failed: cafe");
  });

  it("a company whose newest backup is recent is not due for a schedule that starts after it", async () => {
    fx = new FleetFixture({ backups: { every: "1h", keep: 3 } });
    for (const c of ["acme", "bistro"]) fx.setFileCount(c, 5);
    const first = await fx.startSupervisor({ token: null, watch: false });
    await fx.stopSupervisor(first.supervisor);
    let now = Date.parse("2026-12-02T10:00:00Z");
    const clock = { now: () => now };
    const opened = openStore(path.join(fx.home, "warden.db"));
    store = opened;
    const config = loadConfig(fx.configFile);
    const logger = fx.logger();
    // A schedule (its memory of the backups read from disk when it first looks at a company).
    const schedule = () => testSchedule({ store: opened, clock, logger, config, home: fx.home });
    const root = path.join(fx.home, "backups");
    expect(await schedule().check()).toBe(1); // acme first (by name)
    expect(await listBackups(root, "acme")).toHaveLength(1);
    now += 10 * MIN;
    // A restarted supervisor: acme's backup is 10 min old, bistro has none.
    expect(await schedule().check()).toBe(1);
    expect(await listBackups(root, "acme")).toHaveLength(1);
    expect(await listBackups(root, "bistro")).toHaveLength(1);
  });

  it("a check a minute keeps the pace of every / companies when that is under a minute (a fleet larger than the minutes of `every`)", async () => {
    // 30 companies every 10 min: one every 20 s, so three a minute (one check used to take one).
    fx = new FleetFixture({ backups: { every: "10m", keep: 2 } });
    const companies = Array.from({ length: 30 }, (_, i) => `co${String(i).padStart(2, "0")}`);
    for (const c of companies) fx.setFileCount(c, 3);
    const first = await fx.startSupervisor({ token: null, watch: false });
    await fx.stopSupervisor(first.supervisor);
    let now = Date.parse("2026-12-02T10:00:00Z");
    const clock = { now: () => now };
    store = openStore(path.join(fx.home, "warden.db"));
    const schedule = testSchedule({
      store,
      clock,
      logger: fx.logger(),
      config: loadConfig(fx.configFile),
      home: fx.home,
    });
    const taken = [await schedule.check()];
    for (let minute = 1; minute <= 10; minute++) {
      now += MIN;
      taken.push(await schedule.check());
    }
    expect(taken).toEqual([1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    const root = path.join(fx.home, "backups");
    // Within `every` and one check, every company has a backup (co00, the first, is due again).
    for (const c of companies) expect((await listBackups(root, c)).length, c).toBeGreaterThan(0);
    expect(await listBackups(root, "co00")).toHaveLength(2);
    // A pause of an hour (the supervisor stopped, a slow disk) is caught up a minute at a time, not at once.
    now += 60 * MIN;
    expect(await schedule.check()).toBe(3);
  });
});
