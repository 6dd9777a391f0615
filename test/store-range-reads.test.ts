/**
 * The store's range reads a ladder chunk decides with (company > after AND company <= last) give
 * the rows its single-row reads give, for exactly the companies in the range; the outage verdict's
 * input is a count and the companies that may be down.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LivenessRow } from "../src/store/liveness.js";
import { openStore, type Store } from "../src/store/store.js";
import { credsOnlySnapshot } from "./helpers/snapshot.js";
import { tempDir } from "./helpers/temp-dir.js";

const NOW = 1_800_000_000_000;
const ids = ["a1", "a2", "b1", "b2", "c1"];
let store: Store;
afterEach(() => store.close());

function seeded(): Store {
  const s = openStore(path.join(tempDir(), "warden.db"));
  ids.forEach((company, i) => {
    const to = (state: string, code: number | null, at: number) =>
      s.connections.transition({ company, to: state, code, message: `${state} ${i}`, holder: "w0" }, at);
    to("connecting", null, NOW - 7_200_000);
    to("open", null, NOW - 3_000_000 + i);
    if (i % 2 === 1) to("reconnecting", 428, NOW - 60_000 + i);
    if (i !== 2) s.control.setDesired(company, i === 3 ? "stop" : "run", null, NOW);
    s.ladder.setMemory(company, { episode: i, actions: [NOW - i] }, NOW);
    if (i !== 4) s.liveness.setLadderMemory(company, { deafSince: NOW - i }, NOW);
    const row: LivenessRow = {
      company,
      openedAt: NOW - 3_000_000,
      lastInboundAt: i === 0 ? null : NOW - 1_000 * i,
      lastReceiptAt: NOW - 2_000,
      lastFrameAt: NOW - 3_000,
      lastSendAt: null,
      lastSendCode: i === 1 ? 463 : null,
      state: i === 1 ? "restricted" : "ok",
      since: NOW - 10_000,
      reason: i === 1 ? "463 on send" : null,
      usualGapMs: 60_000,
      silentForMs: 1_000 * i,
      thresholdMs: 600_000,
      restrictedReason: i === 1 ? "reachout timelock" : null,
      restrictedUntil: i === 1 ? NOW + 3_600_000 : null,
      queryAt: NOW - 5_000,
      queryRttMs: 120,
      checkedAt: NOW,
    };
    if (i !== 0) s.liveness.putState(row);
  });
  return s;
}

describe("range reads of a chunk of companies", () => {
  it("return what the single-row reads return, for after < id <= last only", () => {
    store = seeded();
    const inRange = ["a2", "b1", "b2"];
    const connections = store.connections.between("a1", "b2");
    const desired = store.control.desiredBetween("a1", "b2");
    const memory = store.ladder.memoryTextBetween("a1", "b2");
    const liveness = store.liveness.deafFactsBetween("a1", "b2");
    const deaf = store.liveness.ladderMemoryBetween("a1", "b2");
    const since = NOW - 3_600_000;
    const events = store.connections.eventsOf(inRange, since);
    expect([...connections.keys()]).toEqual(inRange);
    for (const company of inRange) {
      expect({ ...connections.get(company), company: undefined }).toEqual({
        ...store.connections.get(company),
        company: undefined,
      });
      expect(desired.get(company) ?? "run").toBe(store.control.desired(company).desired);
      expect(JSON.parse(memory.get(company) as string)).toEqual(store.ladder.memory(company));
      expect(liveness.get(company)).toEqual(deafFacts(store.liveness.get(company)));
      expect(deaf.get(company)).toEqual(store.liveness.ladderMemory(company));
      expect(events.get(company)?.map(({ to, code, at }) => ({ to, code, at }))).toEqual(
        store.connections.eventsSince(company, since),
      );
    }
    expect(desired.has("b1")).toBe(false); // no wish stored: run
    expect(desired.get("b2")).toBe("stop");
    expect(store.connections.eventsOf(["a1", "a2", "b1", "b2", "c1"], NOW).size).toBe(0);
    expect(store.connections.eventsOf([], since).size).toBe(0);
    // Only a2 and b2 closed again after an open (428 one minute ago): the flap-shaped read.
    const flapShaped = store.connections.flapEventsOf(inRange, since);
    expect([...flapShaped.keys()]).toEqual(["a2", "b2"]);
    expect(flapShaped.get("b2")).toEqual(events.get("b2"));
    expect(store.connections.flapEventsOf(inRange, NOW - 30_000).size).toBe(0);
    expect([...store.liveness.deafFactsBetween("", "a1").keys()]).toEqual([]);
  });

  it("give the deaf steps' facts only of a deaf, restricted or remembered company", () => {
    store = seeded();
    // c1: verdict "ok", no restriction, no deaf steps' memory: nothing the steps act on.
    expect([...store.liveness.deafFactsBetween("b2", "c1").keys()]).toEqual([]);
    const c1 = store.liveness.get("c1") as LivenessRow;
    store.liveness.putState({ ...c1, state: "deaf", reason: "no inbound for 20 min" });
    expect(store.liveness.deafFactsBetween("b2", "c1").get("c1")).toEqual(
      deafFacts(store.liveness.get("c1")),
    );
    store.liveness.putState({ ...c1, restrictedReason: "reachout timelock", restrictedUntil: NOW + 60_000 });
    expect(store.liveness.deafFactsBetween("b2", "c1").get("c1")?.restrictedReason).toBe("reachout timelock");
    store.liveness.putState(c1);
    store.liveness.setLadderMemory("c1", { deafSince: NOW }, NOW);
    expect(store.liveness.deafFactsBetween("b2", "c1").get("c1")).toEqual(deafFacts(c1));
  });
});

/** The fields of a verdict the deaf steps read (store.liveness.deafFactsBetween's rows). */
function deafFacts(row: LivenessRow | undefined) {
  if (!row) return undefined;
  const { state, reason, lastInboundAt, silentForMs, usualGapMs, restrictedReason, restrictedUntil } = row;
  return { state, reason, lastInboundAt, silentForMs, usualGapMs, restrictedReason, restrictedUntil };
}

describe("the outage verdict's input", () => {
  it("counts the companies wanted running and lists only those that may be down", () => {
    store = openStore(path.join(tempDir(), "warden.db"));
    const s = store;
    const company = (id: string, to: string | null, creds: "ok" | "corrupt" = "ok") => {
      s.companies.save({ ...credsOnlySnapshot(id, NOW), creds: { state: creds } } as never, 1);
      if (to !== null)
        s.connections.transition(
          { company: id, to, code: to === "open" ? null : 428, message: to, holder: "w0" },
          NOW,
        );
    };
    company("a-open", "open");
    company("b-down", "reconnecting");
    company("c-corrupt", "reconnecting", "corrupt");
    company("d-stopped", "reconnecting");
    s.control.setDesired("d-stopped", "stop", null, NOW);
    company("e-removed", "reconnecting");
    s.companies.markRemoved("e-removed", NOW);
    company("f-pairing", "reconnecting");
    s.connections.transition(
      { company: "f-pairing", to: "pairing", code: null, message: "qr", holder: "w0" },
      NOW,
    );
    company("g-unreported", null);
    company("h-qr", "qr_required");
    const { wanted, down } = s.connections.wantedDown();
    // a, b, f, h: reported, present, wish "run", creds.json readable.
    expect(wanted).toBe(4);
    // h (terminal) is listed: detectOutage's own rule leaves it out.
    expect(down.map((d) => [d.company, d.state])).toEqual([
      ["b-down", "reconnecting"],
      ["h-qr", "qr_required"],
    ]);
    expect(down[0]?.downSince).toBe(s.connections.get("b-down")?.downSince);
  });
});
