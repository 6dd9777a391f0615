import { writeFileSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { openStore } from "../src/store/store.js";
import { watchWorkers } from "../src/supervisor/worker-watch.js";
import { countTurns } from "./helpers/loop-turns.js";
import { tempDir } from "./helpers/temp-dir.js";

const cleanups: (() => unknown)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const NOW = 1_800_000_000_000;

describe("a dead worker's companies go offline in slices", () => {
  it("marks every company it held offline (terminal states kept), with event-loop turns between slices", async () => {
    const root = tempDir();
    const file = path.join(root, "warden.json");
    writeFileSync(file, JSON.stringify({ sessionsDir: path.join(root, "sessions"), http: { listen: null } }));
    const config = loadConfig(file);
    const store = openStore(path.join(root, "warden.db"));
    cleanups.push(() => store.close());
    const holder = "w/0/1";
    const ids = Array.from({ length: 1_200 }, (_, i) => `c${String(i).padStart(4, "0")}`);
    const then = NOW - config.workers.deadAfter - 60_000;
    store.workers.register({ holder, instance: 0, pid: 1, pmId: null }, then);
    for (const company of ids) {
      store.leases.acquire(company, holder, 1, then, 3_600_000_000);
      store.connections.transition({ company, to: "open", code: null, message: null, holder }, then);
    }
    store.connections.transition(
      { company: "c0007", to: "qr_required", code: 401, message: null, holder },
      then,
    );
    const { result: notices, turns } = await countTurns(() =>
      watchWorkers(store, config, { now: () => NOW }, pino({ level: "silent" }), async () => undefined),
    );
    expect(notices.map((n) => n.kind)).toContain("worker-dead");
    const states = ids.map((c) => store.connections.get(c)?.state);
    expect(states.filter((s) => s === "offline")).toHaveLength(1_199);
    expect(store.connections.get("c0007")?.state).toBe("qr_required");
    // 1,200 companies in slices of 500: at least two turns while marking.
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});
