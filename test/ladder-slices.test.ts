import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { loadConfig } from "../src/config/load.js";
import { LadderRunner } from "../src/ladder/ladder-runner.js";
import { toMemory } from "../src/ladder/ladder-types.js";
import type { KeyStateEvidenceSource } from "../src/ladder/store-evidence.js";
import { openStore, type Store } from "../src/store/store.js";
import { credsOnlySnapshot } from "./helpers/snapshot.js";
import { tempDir } from "./helpers/temp-dir.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const NOW = 1_800_000_000_000;
const ids = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, "0")}`);

/**
 * A store of 40 companies, every one connected at NOW but `unreported` (no connection yet), and a
 * runner over it with a fixed clock.
 */
function fleet(
  evidence?: KeyStateEvidenceSource,
  unreported: string[] = [],
  clock: { now: () => number } = { now: () => NOW },
): { store: Store; runner: LadderRunner } {
  const root = tempDir();
  const sessionsDir = path.join(root, "sessions");
  mkdirSync(sessionsDir);
  const file = path.join(root, "warden.json");
  writeFileSync(file, JSON.stringify({ sessionsDir, http: { listen: null } }));
  const config = loadConfig(file);
  const store = openStore(path.join(root, "warden.db"));
  for (const company of ids) {
    store.companies.save(credsOnlySnapshot(company, NOW), 1);
    if (unreported.includes(company)) continue;
    store.connections.transition(
      { company, to: "open", code: null, message: "connected", holder: "w0" },
      NOW,
    );
  }
  const runner = new LadderRunner({
    store,
    clock,
    logger: pino({ level: "silent" }),
    config: () => config,
    actions: createActionContext({ store, clock, config, home: root }),
    notify: () => undefined,
    ...(evidence ? { evidence } : {}),
  });
  cleanups.push(() => store.close());
  cleanups.push(() => runner.close());
  return { store, runner };
}

/**
 * Records each company whose rows a decision chunk reads (the ladder memory's range read; a chunk is
 * decided on in the turn it is read), and each event-loop turn.
 */
function trace(store: Store): { seen: string[]; stop: () => void } {
  const seen: string[] = [];
  const read = store.ladder.memoryTextBetween.bind(store.ladder);
  store.ladder.memoryTextBetween = (after: string, last: string) => {
    for (const id of ids) if (id > after && id <= last) seen.push(id);
    return read(after, last);
  };
  let stopped = false;
  const turn = () => {
    if (stopped) return;
    seen.push("<turn>");
    setImmediate(turn);
  };
  setImmediate(turn);
  return { seen, stop: () => (stopped = true) };
}

describe("ladder checks in slices", () => {
  it("decides on every company exactly once per pass, with event-loop turns between slices", async () => {
    const { store, runner } = fleet();
    const t = trace(store);
    await runner.checkInSlices(0, 1);
    t.stop();
    const companies = t.seen.filter((s) => s !== "<turn>");
    expect(companies).toEqual(ids);
    // sliceMs 0, chunks of one: a turn before every company but the first.
    const between = t.seen.slice(t.seen.indexOf(ids[0] as string), t.seen.indexOf(ids.at(-1) as string));
    expect(between.filter((s) => s === "<turn>").length).toBeGreaterThanOrEqual(ids.length - 1);
  });

  it("reads the rows of a chunk at a time; a slice that runs out ends the chunk", async () => {
    const { store, runner } = fleet();
    const t = trace(store);
    await runner.checkInSlices(60_000, 10);
    t.stop();
    const reads = t.seen
      .join(",")
      .split(/,?<turn>,?/)
      .filter((c) => c !== "");
    // 4 chunks of 10 read in one turn (the pass fits in the slice): each company read once.
    expect(reads).toContain(ids.join(","));
    const u = trace(store);
    await runner.checkInSlices(0, 10);
    u.stop();
    // sliceMs 0: one decision per turn; the rest of its chunk is read again after the turn (in the
    // turn of its own decision): the chunk (c00, c10] is read for c01, ..., (c09, c19] for c10.
    const readsOf = (id: string | undefined) => u.seen.filter((s) => s === id).length;
    expect([readsOf(ids[0]), readsOf(ids[5]), readsOf(ids[10]), readsOf(ids[39])]).toEqual([1, 6, 10, 10]);
  });

  it("decides in one turn when the pass fits in the slice, as check() does, a turn after the verdicts", async () => {
    const { store, runner } = fleet();
    const t = trace(store);
    await runner.checkInSlices(60_000);
    runner.check();
    t.stop();
    expect(t.seen.filter((s) => s !== "<turn>")).toEqual([...ids, ...ids]);
    // The sliced pass: a turn between its verdicts and its first decision, then none.
    const first = t.seen.indexOf(ids[0] as string);
    expect(t.seen.slice(0, first)).toContain("<turn>");
    expect(t.seen.slice(first, first + ids.length * 2)).not.toContain("<turn>");
  });
});

describe("a sliced pass lists the fleet a chunk at a time", () => {
  it("lists the companies in the turns of their decisions; every company once; the same outage verdict", async () => {
    const { store, runner } = fleet();
    // 30 of 40 down within a minute and the probe failing: a network outage.
    for (const company of ids.slice(0, 30))
      store.connections.transition(
        { company, to: "close", code: 408, message: "timed out", holder: "w0" },
        NOW - 30_000,
      );
    runner.setProbeResult(false, "probe web.whatsapp.com:443: ETIMEDOUT");
    const listed: number[] = [];
    const list = store.companies.listPresentCountsPage.bind(store.companies);
    store.companies.listPresentCountsPage = (after: string, limit: number) => {
      const page = list(after, limit);
      listed.push(page.length);
      return page;
    };
    const t = trace(store);
    await runner.checkInSlices(60_000, 10);
    t.stop();
    expect(t.seen.filter((s) => s !== "<turn>")).toEqual(ids);
    // 4 chunks of 10, then the empty page that ends the pass: no list of the whole fleet.
    expect(listed).toEqual([10, 10, 10, 10, 0]);
    expect(store.ladder.currentOutage()?.down).toBe(30);
  });
});

describe("a ladder pass reads key-state evidence only for down companies", () => {
  it("a connected company's decision reads no signals; a down one's does, with its episode start", () => {
    const asked: [string, number | null][] = [];
    const { store, runner } = fleet((company, episodeStart) => {
      asked.push([company, episodeStart]);
      return { badSessionCloses: 0, decryptStorm: null };
    });
    store.connections.transition(
      { company: "c07", to: "close", code: 428, message: "connection closed", holder: "w0" },
      NOW - 60_000,
    );
    runner.check();
    expect(asked).toEqual([["c07", NOW - 60_000]]);
  });
});

describe("a sliced pass reads each chunk's memory in the turn of its decisions", () => {
  it("a cleanup that finishes during the pass keeps its lastCleanup when the company is decided on later", async () => {
    const { store, runner } = fleet();
    const downSince = NOW - 600_000;
    store.connections.transition(
      { company: "c25", to: "close", code: 428, message: "connection closed", holder: "w0" },
      downSince,
    );
    store.ladder.setMemory("c25", { ...toMemory(undefined), episode: downSince }, NOW - 60_000);
    const lastCleanup = { at: NOW - 1_000, mode: "smart", deleted: 12, backup: null };
    // The runner's background cleanup of c25 finishing in the turn after the first chunk: it
    // writes the memory it reads, plus lastCleanup (ladder-runner.ts cleanup()).
    const read = store.ladder.memoryTextBetween.bind(store.ladder);
    store.ladder.memoryTextBetween = (after: string, last: string) => {
      if (after === "")
        setImmediate(() =>
          store.ladder.setMemory("c25", { ...toMemory(store.ladder.memory("c25")), lastCleanup }, NOW),
        );
      return read(after, last);
    };
    await runner.checkInSlices(0, 10);
    // c25 was decided on (a step, so its memory was written back) after the cleanup wrote.
    expect(store.ladder.steps("c25").length).toBeGreaterThan(0);
    const memory = toMemory(store.ladder.memory("c25"));
    expect(memory.lastCleanup).toEqual(lastCleanup);
    expect(memory.episode).toBe(downSince);
  });
});

describe("a chunk's transitions: one range read over the flap window, an older episode per company", () => {
  /** `company` reconnecting since `from`, open one minute in every eight since `flapsFrom`. */
  function flap(store: Store, company: string, from: number, flapsFrom: number, flaps: number): void {
    const to = (state: string, code: number | null, at: number) =>
      store.connections.transition({ company, to: state, code, message: state, holder: "w0" }, at);
    to("reconnecting", 500, from);
    for (let i = 0; i < flaps; i++) {
      const open = flapsFrom + i * 8 * 60_000;
      to("open", null, open);
      to("reconnecting", 500, open + 60_000);
    }
  }

  it("flapping alerts and episode starts as each company's own history says", async () => {
    const { store, runner } = fleet(undefined, ["c05", "c15", "c25"]);
    // c05: down 50 minutes ago, 5 short connections since (within the flap window).
    flap(store, "c05", NOW - 50 * 60_000, NOW - 45 * 60_000, 5);
    // c15: an episode the ladder has known for 2 hours (older than the flap window), flapping since.
    flap(store, "c15", NOW - 120 * 60_000, NOW - 45 * 60_000, 5);
    store.ladder.setMemory("c15", { ...toMemory(undefined), episode: NOW - 120 * 60_000 }, NOW - 60_000);
    // c25: connected for two hours, after one short connection 3 hours ago (outside every lookback).
    flap(store, "c25", NOW - 190 * 60_000, NOW - 185 * 60_000, 1);
    store.connections.transition(
      { company: "c25", to: "open", code: null, message: "open", holder: "w0" },
      NOW - 120 * 60_000,
    );
    await runner.checkInSlices(0, 10);
    const flapping = store.ladder.steps().filter((s) => s.step === "alert:flapping");
    expect(flapping.map((s) => s.company)).toEqual(["c05", "c15"]);
    for (const s of flapping) expect(s.reason).toContain("5 connections closed again");
    // Each down episode starts where its history says: across the flaps, not at the last close.
    expect(toMemory(store.ladder.memory("c05")).episode).toBe(NOW - 50 * 60_000);
    expect(toMemory(store.ladder.memory("c15")).episode).toBe(NOW - 120 * 60_000);
    expect(store.ladder.steps("c25")).toEqual([]);
  });

  it("a connected company that flapped is told; the events of connected companies that did not are not read", async () => {
    const { store, runner } = fleet(undefined, ["c31", "c32"]);
    // c31: 5 short connections in the last hour, connected again 30 s ago.
    flap(store, "c31", NOW - 50 * 60_000, NOW - 45 * 60_000, 5);
    store.connections.transition(
      { company: "c31", to: "open", code: null, message: "open", holder: "w0" },
      NOW - 30_000,
    );
    // c32: reconnected once 9 minutes ago, after a minute down: no connection closed again.
    flap(store, "c32", NOW - 10 * 60_000, NOW - 9 * 60_000, 0);
    store.connections.transition(
      { company: "c32", to: "open", code: null, message: "open", holder: "w0" },
      NOW - 9 * 60_000,
    );
    const read: string[] = [];
    const all = store.connections.eventsOf.bind(store.connections);
    store.connections.eventsOf = (companies: readonly string[], since: number) => {
      read.push(companies.join(","));
      return all(companies, since);
    };
    await runner.checkInSlices(60_000, 10);
    const flapping = store.ladder.steps().filter((s) => s.step === "alert:flapping");
    expect(flapping.map((s) => s.company)).toEqual(["c31"]);
    expect(flapping[0]?.reason).toContain("5 connections closed again");
    expect(store.ladder.steps("c32")).toEqual([]);
    // Every company connected: no chunk read every event of its companies.
    expect(read).toEqual([]);
  });
});

describe("a company the ladder has nothing to remember about", () => {
  it("gets no memory row; one with an episode does", async () => {
    const { store, runner } = fleet();
    store.connections.transition(
      { company: "c07", to: "close", code: 428, message: "connection closed", holder: "w0" },
      NOW - 60_000,
    );
    await runner.checkInSlices(0, 10);
    runner.check();
    const rows = store.db.prepare("SELECT company FROM ladder_state").all() as { company: string }[];
    expect(rows.map((r) => r.company)).toEqual(["c07"]);
    expect(toMemory(store.ladder.memory("c07")).episode).toBe(NOW - 60_000);
  });
});

describe("a pass decides only on what its verdicts saw", () => {
  it("a logout a worker records after the pass's verdicts is decided by the next pass, not on its own", async () => {
    let now = NOW;
    const { store, runner } = fleet(undefined, [], { now: () => now });
    const pass = runner.checkInSlices(60_000, 10);
    // The worker's write lands between the verdicts (fleet correlation, outage) and the decisions.
    store.connections.transition(
      { company: "c05", to: "qr_required", code: 401, message: "logged out", holder: "w0" },
      NOW + 1,
    );
    await pass;
    expect(store.ladder.steps("c05")).toEqual([]);
    // The next pass (its verdicts see the logout) decides on it.
    now = NOW + 1_000;
    await runner.checkInSlices(60_000, 10);
    expect(store.ladder.steps("c05").map((s) => s.step)).not.toEqual([]);
  });
});
