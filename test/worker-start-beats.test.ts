import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { openStore } from "../src/store/store.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { createTestWorker } from "./helpers/test-worker.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("a worker's first start", () => {
  it("beats while it connects its companies, so a long start is not taken for a dead worker", async () => {
    const fx = new FleetFixture({
      workers: { heartbeatEvery: "10s", controlPollEvery: "1h", leaseTtl: "1h", deadAfter: "30s" },
      simulation: { connectAfter: "1ms", initialPreKeys: 1 },
    });
    cleanups.push(() => fx.cleanup());
    const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
    for (const company of ids) await createPairedFolder(path.join(fx.sessionsDir, company));
    const config = loadConfig(fx.configFile);
    const store = openStore(path.join(fx.home, "warden.db"));
    cleanups.push(() => store.close());
    // A fake clock that moves 5 s with each company connected (each takes a lease): the 8
    // connects of the start take 40 s of it, more than deadAfter.
    let now = 1_800_000_000_000;
    const acquire = store.leases.acquire.bind(store.leases);
    store.leases.acquire = (...args) => {
      now += 5_000;
      return acquire(...args);
    };
    const beats: number[] = [];
    const heartbeat = store.workers.heartbeat.bind(store.workers);
    store.workers.heartbeat = (holder, at) => {
      beats.push(at);
      return heartbeat(holder, at);
    };
    const worker = createTestWorker({
      config,
      store,
      logger: fx.logger(),
      clock: { now: () => now },
      holder: "w/0/1",
    });
    cleanups.push(() => worker.close());
    const started = now;
    await worker.start();
    // The first beat at the start, then one per 10 s of connecting: never 30 s without one.
    expect(beats[0]).toBe(started);
    expect(beats.length).toBeGreaterThanOrEqual(4);
    const gaps = beats.slice(1).map((b, i) => b - (beats[i] as number));
    expect(Math.max(...gaps, now - (beats.at(-1) as number))).toBeLessThan(config.workers.deadAfter);
    expect(ids.every((c) => store.leases.get(c)?.holder === "w/0/1")).toBe(true);
  });
});
