import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decide as decidePlanned,
  EMPTY_MEMORY,
  type LadderAction,
  type LadderInput,
  type LadderMemory,
  type LadderStep,
} from "../src/ladder/decide.js";
import { NO_EVIDENCE } from "../src/ladder/key-state-evidence.js";

/** A decision seen flat: the actions alone, and every step (notes first, then the actions' steps). */
interface Decision {
  actions: LadderAction[];
  steps: LadderStep[];
  memory: LadderMemory;
}

/** decide(), flattened for the assertions below (each action still comes with its own step). */
function decide(input: LadderInput, now: number): Decision {
  const d = decidePlanned(input, now);
  return {
    actions: d.actions.map((p) => p.action),
    steps: [...d.notes, ...d.actions.map((p) => p.step)],
    memory: d.memory,
  };
}

const MIN = 60_000;
const H = 60 * MIN;
/** 12:00 UTC: outside the default 03:00-05:00 UTC maintenance window. */
const T0 = Date.UTC(2026, 2, 10, 12, 0);

const SETTINGS: LadderInput["settings"] = {
  thresholds: { monitor: 120, warning: 150, critical: 180, fatal: 200 },
  ladder: {
    enabled: true,
    warnAfter: 10 * MIN,
    reconnectAfter: 15 * MIN,
    reconnectAttempts: 3,
    reconnectBackoff: 2 * MIN,
    settleFor: 5 * MIN,
    budget: { max: 6, window: 6 * H },
    emergencyCooldown: H,
    minCleanupFiles: 20,
  },
  maintenance: { window: "03:00-05:00", timezone: "UTC" },
  alerts: { remindEvery: H, hysteresis: 10, escalateAfter: null },
};

/** Settings with some ladder keys changed. */
function withLadder(ladder: Partial<LadderInput["settings"]["ladder"]>): LadderInput["settings"] {
  return { ...SETTINGS, ladder: { ...SETTINGS.ladder, ...ladder } };
}

/** A company down since T0 (close 428) with 100 counted files, unless told otherwise. */
function input(over: Partial<LadderInput>): LadderInput {
  return {
    company: "acme",
    state: "reconnecting",
    code: 428,
    downSince: T0,
    desired: "run",
    counted: 100,
    evidence: NO_EVIDENCE,
    settings: SETTINGS,
    fleetOffline: false,
    memory: EMPTY_MEMORY,
    ...over,
  };
}

/** A company checked again and again; each check feeds the returned memory back in. */
function createCompany(base: Partial<LadderInput> = {}) {
  let memory: LadderMemory = EMPTY_MEMORY;
  return {
    check(now: number, over: Partial<LadderInput> = {}): Decision {
      const decision = decide(input({ ...base, ...over, memory }), now);
      memory = decision.memory;
      return decision;
    },
    get memory(): LadderMemory {
      return memory;
    },
  };
}

/** The memory of a company down since T0, warned, whose 3 reconnects (15m, 17m, 21m) all failed. */
function afterReconnects(over: Partial<LadderMemory> = {}): LadderMemory {
  const actions = [T0 + 15 * MIN, T0 + 17 * MIN, T0 + 21 * MIN];
  const base = {
    episode: T0,
    warnedAt: T0 + 10 * MIN,
    reconnects: 3,
    lastReconnectAt: T0 + 21 * MIN,
    actions,
  };
  return { ...EMPTY_MEMORY, ...base, ...over };
}

/** "reconnect:2", "cleanup:reset:down:force", "alert:down:warning"... */
function show(a: LadderAction): string {
  switch (a.kind) {
    case "alert":
      return `alert:${a.topic}:${a.level}`;
    case "reconnect":
      return `reconnect:${a.attempt}`;
    case "cleanup":
      return `cleanup:${a.mode}:${a.why}${a.force ? ":force" : ""}`;
    case "qr_required":
      return "qr_required";
  }
}

/** Checks once a minute from `from` to `to` (minutes after T0); returns "17m reconnect:2" lines. */
function walk(
  company: ReturnType<typeof createCompany>,
  from: number,
  to: number,
  over: (minute: number) => Partial<LadderInput> = () => ({}),
): string[] {
  const out: string[] = [];
  for (let m = from; m <= to; m++) {
    for (const a of company.check(T0 + m * MIN, over(m)).actions) out.push(`${m}m ${show(a)}`);
  }
  return out;
}

/** Two 500 closes in the episode: the key state is suspect, a reset may follow a smart cleanup. */
const BAD_SESSION = { badSessionCloses: 2, decryptStorm: null } as const;

const isDestructive = (a: LadderAction) =>
  a.kind === "qr_required" || (a.kind === "cleanup" && (a.mode === "reset" || a.why === "down"));

describe("decide: a down company climbs the ladder", () => {
  it("waits, warns once, reconnects with backoff, cleans, resets, then declares QR required (500 evidence)", () => {
    const acme = createCompany({ counted: 160, code: 500, evidence: BAD_SESSION });
    const steps: string[] = [];
    const timeline: string[] = [];
    for (let m = 0; m <= 24 * 60; m++) {
      const d = acme.check(T0 + m * MIN);
      for (const a of d.actions) timeline.push(`${m}m ${show(a)}`);
      for (const s of d.steps) steps.push(`${m}m ${s.step}: ${s.reason}`);
    }
    expect(timeline).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m cleanup:smart:down",
      "34m cleanup:reset:down:force",
      "39m qr_required",
      "39m alert:reset_failed:fatal",
    ]);
    expect(steps).toEqual([
      expect.stringMatching(/^10m alert:down: acme disconnected for 10m/),
      "15m reconnect: down 15m, 1st reconnect of 3",
      "17m reconnect: down 17m, 2nd reconnect of 3",
      "21m reconnect: down 21m, 3rd reconnect of 3",
      "29m cleanup:smart: down 29m, 2 badSession (500) closes: smart cleanup of 160 stale files before any reset",
      "34m cleanup:reset: down 34m, still down 5m after the smart cleanup; 2 badSession (500) closes",
      "39m qr_required: down 39m, still down 5m after the last-resort reset",
      expect.stringMatching(/^39m alert:reset_failed: acme is still down 5m after the last-resort reset/),
    ]);
  });

  it("says what happens next in its alerts and names the company", () => {
    const acme = createCompany({ counted: 160, code: 500, evidence: BAD_SESSION });
    const alerts: string[] = [];
    for (let m = 0; m <= 60; m++)
      for (const a of acme.check(T0 + m * MIN).actions) if (a.kind === "alert") alerts.push(a.text);
    expect(alerts).toEqual([
      "acme disconnected for 10m (state reconnecting, close code 500). A reconnect will be requested at 15m down.",
      "acme is still down 5m after the last-resort reset (down 39m). A backup is taken and nothing is deleted; the company stays stopped until it is paired again: `warden pair acme --new`, then scan the QR shown by `warden status acme`.",
    ]);
    expect(acme.check(T0 + 61 * MIN).actions).toEqual([]);
    const qr = createCompany({ counted: 160, evidence: BAD_SESSION });
    const all = Array.from({ length: 40 }, (_, m) => qr.check(T0 + m * MIN).actions).flat();
    expect(all.find((a) => a.kind === "qr_required")).toEqual({
      kind: "qr_required",
      reason: "reset did not bring it back",
    });
    expect(all.find((a) => a.kind === "cleanup" && a.mode === "reset")).toEqual({
      kind: "cleanup",
      mode: "reset",
      why: "down",
      force: true,
    });
  });

  it("respects the backoff exactly: the 2nd reconnect not before 17m, the 3rd not before 21m", () => {
    const acme = createCompany({ counted: 160 });
    walk(acme, 0, 15);
    expect(acme.check(T0 + 17 * MIN - 1).actions).toEqual([]);
    expect(acme.check(T0 + 17 * MIN).actions.map(show)).toEqual(["reconnect:2"]);
    expect(acme.check(T0 + 21 * MIN - 1).actions).toEqual([]);
    expect(acme.check(T0 + 21 * MIN).actions.map(show)).toEqual(["reconnect:3"]);
    // The last reconnect is given backoff * 2^(attempts-1) = 8m before anything else.
    expect(acme.check(T0 + 29 * MIN - 1).actions).toEqual([]);
    expect(acme.check(T0 + 29 * MIN).actions.map(show)).toEqual(["cleanup:smart:down"]);
  });

  it("warns once even if checks are rare, and starts reconnecting where it is", () => {
    const acme = createCompany();
    expect(acme.check(T0 + 2 * H).actions.map(show)).toEqual(["alert:down:warning", "reconnect:1"]);
    expect(acme.check(T0 + 2 * H).actions).toEqual([]);
    expect(acme.check(T0 + 2 * H + 2 * MIN).actions.map(show)).toEqual(["reconnect:2"]);
  });

  it("never resets for a count alone: a fatal count gets a smart cleanup, then a human (issue 8)", () => {
    const acme = createCompany({ counted: 205, code: 408, codesSeen: [{ code: 408, n: 4 }] });
    expect(walk(acme, 0, 24 * 60)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m cleanup:smart:down",
      "34m alert:human_needed:critical",
    ]);
    const text = decide(
      input({
        counted: 205,
        codesSeen: [
          { code: 408, n: 4 },
          { code: 503, n: 1 },
        ],
        memory: afterReconnects({ cleanupAt: T0 + 29 * MIN }),
      }),
      T0 + 34 * MIN,
    ).actions[0];
    expect(text).toMatchObject({
      text: expect.stringContaining(
        "close codes seen: 408 connection lost / timed out x4, 503 WhatsApp unavailable x1",
      ),
    });
    expect(text).toMatchObject({ text: expect.stringContaining("nothing is deleted") });
  });

  it("goes straight to the reset when the key state is broken and the smart plan holds nothing", () => {
    const acme = createCompany({
      counted: 0,
      code: 500,
      evidence: BAD_SESSION,
      files: { total: 900, stale: 3, heldByMinAge: 0, heldUntil: null },
    });
    expect(walk(acme, 0, 24 * 60)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m cleanup:reset:down:force",
      "34m qr_required",
      "34m alert:reset_failed:fatal",
    ]);
  });

  it("does not stop a down company for a cleanup that would not help, and never resets without evidence", () => {
    // basis "total": 230 files, 5 of them stale.
    const acme = createCompany({
      counted: 230,
      files: { total: 230, stale: 5, heldByMinAge: 40, heldUntil: T0 + 3 * 86_400_000 },
    });
    expect(walk(acme, 0, 24 * 60)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m alert:human_needed:critical",
    ]);
  });

  it("asks a human and deletes nothing when the count is below warning", () => {
    const acme = createCompany({ counted: 149 });
    expect(walk(acme, 0, 24 * 60)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m alert:human_needed:critical",
    ]);
    const text = decide(input({ counted: 149, memory: afterReconnects() }), T0 + 2 * H);
    expect(text.actions).toEqual([
      {
        kind: "alert",
        topic: "human_needed",
        level: "critical",
        text: "acme is still down after 2h: 3 reconnects failed (no close code recorded); files are not the cause (149 counted < warning 150). No key-state evidence (no 500 badSession closes, no decrypt-failure storm), so nothing is deleted. Next: wa-warden keeps the worker reconnecting and does nothing more until it recovers; look at the worker logs and the network, then `warden reconnect acme`.",
      },
    ]);
  });

  it("never does anything destructive to a down company whose count stays below warning", () => {
    // A count hovering under warning, checks at irregular intervals, for two days.
    const acme = createCompany();
    const seen: LadderAction[] = [];
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += ((i * 7919) % 97) * 1_000 + 1_000;
      seen.push(...acme.check(now, { counted: (i * 31) % 150 }).actions);
    }
    expect(now - T0).toBeGreaterThan(2 * 86_400_000);
    expect(seen.filter(isDestructive)).toEqual([]);
    expect(seen.filter((a) => a.kind === "cleanup")).toEqual([]);
    expect(seen.map(show)).toEqual([
      "alert:down:warning",
      "reconnect:1",
      "reconnect:2",
      "reconnect:3",
      "alert:human_needed:critical",
    ]);
  });

  it("says so when the folder was never counted", () => {
    const acme = createCompany({ counted: null });
    const alerts = walk(acme, 0, 60);
    expect(alerts.at(-1)).toBe("29m alert:human_needed:critical");
    const d = decide(input({ counted: null, memory: afterReconnects() }), T0 + H);
    expect(d.actions[0]).toMatchObject({ text: expect.stringContaining("its folder was never counted") });
  });
});

describe("decide: states that need a human", () => {
  it("declares QR required at once on 401, once, and deletes nothing", () => {
    const acme = createCompany({ state: "qr_required", code: 401, counted: 250 });
    const first = acme.check(T0);
    expect(first.actions).toEqual([
      { kind: "qr_required", reason: "WhatsApp logged the device out (401)" },
      {
        kind: "alert",
        topic: "qr_required",
        level: "fatal",
        text: "acme: WhatsApp logged the device out (401). A backup is taken and nothing is deleted; the company stays stopped until it is paired again: `warden pair acme --new`, then scan the QR shown by `warden status acme`.",
      },
    ]);
    expect(first.steps.map((s) => s.step)).toEqual(["qr_required", "alert:qr_required"]);
    expect(walk(acme, 1, 24 * 60)).toEqual([]);
  });

  it("treats a 401 close code as QR required whatever the state says", () => {
    const acme = createCompany({ state: "reconnecting", code: 401 });
    expect(walk(acme, 0, 120)).toEqual(["0m qr_required", "0m alert:qr_required:fatal"]);
  });

  it("declares QR required on 403 forbidden, once", () => {
    for (const over of [
      { state: "forbidden", code: 403 },
      { state: "offline", code: 403 },
    ]) {
      const acme = createCompany(over);
      expect(walk(acme, 0, 120)).toEqual(["0m qr_required", "0m alert:qr_required:fatal"]);
      const d = decide(input(over), T0);
      expect(d.actions[0]).toEqual({
        kind: "qr_required",
        reason: "WhatsApp refused the number (403 forbidden)",
      });
    }
  });

  it("alerts once for replaced and outdated_client, and never acts", () => {
    const replaced = createCompany({ state: "replaced", code: 440, counted: 250 });
    expect(walk(replaced, 0, 24 * 60)).toEqual(["0m alert:human_needed:critical"]);
    const d = decide(input({ state: "replaced", code: 440 }), T0 + 3 * MIN);
    expect(d.actions[0]).toMatchObject({ text: expect.stringContaining("does not fight it") });
    const outdated = createCompany({ state: "outdated_client", code: 405, counted: 250 });
    expect(walk(outdated, 0, 24 * 60)).toEqual(["0m alert:human_needed:critical"]);
  });

  it("waits for the human while pairing", () => {
    const acme = createCompany({ state: "pairing", code: null, counted: 250 });
    expect(walk(acme, 0, 24 * 60)).toEqual([]);
  });

  it("does nothing at all for a company an operator stopped", () => {
    const memory = { ...EMPTY_MEMORY, episode: T0, reconnects: 1, lastReconnectAt: T0 + 15 * MIN };
    for (const state of ["stopped", "reconnecting", "qr_required", "open", null]) {
      for (const counted of [null, 0, 160, 250]) {
        const d = decide(input({ desired: "stop", state, counted, code: 401, memory }), T0 + 5 * H);
        expect(d).toEqual({ actions: [], steps: [], memory });
      }
    }
  });

  it("does nothing when the ladder is disabled", () => {
    const acme = createCompany({ counted: 250, settings: withLadder({ enabled: false }) });
    expect(walk(acme, 0, 24 * 60)).toEqual([]);
    expect(acme.memory).toBe(EMPTY_MEMORY);
  });
});

describe("decide: connected companies", () => {
  it("cleans at critical once per emergencyCooldown, never resets nor asks for a QR", () => {
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 185 });
    // 12:00 to 14:30 UTC: outside the maintenance window.
    expect(walk(acme, 0, 150)).toEqual([
      "0m cleanup:smart:emergency",
      "60m cleanup:smart:emergency",
      "120m cleanup:smart:emergency",
    ]);
    const d = decide(input({ state: "open", downSince: null, counted: 185 }), T0);
    expect(d.steps).toEqual([
      {
        step: "cleanup:smart",
        reason: "connected, 185 counted files >= critical 180: emergency cleanup of 185 stale files",
      },
    ]);
    expect(d.actions).toEqual([{ kind: "cleanup", mode: "smart", why: "emergency", force: false }]);
  });

  it("never stops a connected company for a cleanup that cannot help: one alert per remindEvery instead", () => {
    // basis "counted": 185 counted files of which only 12 stale (< minCleanupFiles 20).
    const files = { total: 1000, stale: 12, heldByMinAge: 30, heldUntil: Date.UTC(2026, 2, 12, 8, 0) };
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 185, files });
    expect(walk(acme, 0, 150)).toEqual([
      "0m alert:cannot_help:warning",
      "60m alert:cannot_help:warning",
      "120m alert:cannot_help:warning",
    ]);
    const d = decide(input({ state: "open", code: null, downSince: null, counted: 185, files }), T0);
    expect(d.actions[0]).toMatchObject({
      text: expect.stringContaining(
        "cleanup cannot help now: 988 live files, 12 stale, 30 more kept by minAge until 2026-03-12 08:00 UTC",
      ),
    });
    // 25 stale files (>= minCleanupFiles) clear the pile even when live files keep it at its level.
    const big = decide(
      input({ state: "open", code: null, downSince: null, counted: 230, files: { ...files, stale: 25 } }),
      T0,
    );
    expect(big.actions.map(show)).toEqual(["cleanup:smart:emergency"]);
  });

  it("never gets a reset or a QR request for any count, in or out of the window, outage or not", () => {
    for (let counted = 0; counted <= 400; counted++) {
      for (const now of [T0, Date.UTC(2026, 2, 10, 3, 30)]) {
        for (const fleetOffline of [false, true]) {
          const memory = { ...EMPTY_MEMORY, episode: T0 - H, reconnects: 3, lastReconnectAt: T0 - 30 * MIN };
          const d = decide(
            input({ state: "open", code: 401, downSince: null, counted, fleetOffline, memory }),
            now,
          );
          for (const a of d.actions) {
            expect(a.kind).toBe("cleanup");
            expect(a).toMatchObject({ mode: "smart", force: false });
          }
        }
      }
    }
  });

  it("cleans at warning only inside the maintenance window, once per occurrence", () => {
    // 03:00-05:00 in São Paulo (UTC-3, no DST) is 06:00-08:00 UTC.
    const settings = { ...SETTINGS, maintenance: { window: "03:00-05:00", timezone: "America/Sao_Paulo" } };
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 155, settings });
    const start = Date.UTC(2026, 2, 10, 0, 0);
    const done: string[] = [];
    for (let t = start; t < start + 3 * 86_400_000; t += 5 * MIN) {
      const d = acme.check(t);
      for (const a of d.actions) done.push(`${new Date(t).toISOString()} ${show(a)}`);
    }
    expect(done).toEqual([
      "2026-03-10T06:00:00.000Z cleanup:smart:maintenance",
      "2026-03-11T06:00:00.000Z cleanup:smart:maintenance",
      "2026-03-12T06:00:00.000Z cleanup:smart:maintenance",
    ]);
    expect(acme.memory.lastMaintenanceKey).toBe("2026-03-12");
  });

  it("counts a window that crosses midnight as one occurrence", () => {
    // 22:30-01:00 in São Paulo is 01:30-04:00 UTC; starting at 00:30 local, we are inside already.
    const settings = { ...SETTINGS, maintenance: { window: "22:30-01:00", timezone: "America/Sao_Paulo" } };
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 155, settings });
    const start = Date.UTC(2026, 2, 10, 3, 30);
    const done: string[] = [];
    for (let t = start; t < start + 2 * 86_400_000; t += MIN) {
      for (const a of acme.check(t).actions) done.push(`${new Date(t).toISOString()} ${show(a)}`);
    }
    expect(done).toEqual([
      "2026-03-10T03:30:00.000Z cleanup:smart:maintenance",
      "2026-03-11T01:30:00.000Z cleanup:smart:maintenance",
      "2026-03-12T01:30:00.000Z cleanup:smart:maintenance",
    ]);
  });

  it("leaves a connected company below warning alone, in the window too", () => {
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 149 });
    expect(walk(acme, -12 * 60, 12 * 60)).toEqual([]);
  });

  it("records the recovery and resets the episode's counters", () => {
    const acme = createCompany({ counted: 160 });
    walk(acme, 0, 30);
    expect(acme.memory).toMatchObject({ reconnects: 3, cleanupAt: T0 + 29 * MIN });
    const back = acme.check(T0 + 31 * MIN, { state: "open", downSince: null, code: null });
    expect(back.steps).toEqual([
      {
        step: "recovered",
        reason: "connected again after 31m down; the ladder had requested: 3 reconnects, smart cleanup",
      },
    ]);
    expect(back.actions).toEqual([]);
    expect(acme.memory).toEqual({ ...EMPTY_MEMORY, actions: [] });
    expect(acme.check(T0 + 32 * MIN, { state: "open", downSince: null }).steps).toEqual([]);
  });
});

describe("decide: network outage", () => {
  it("reconnects but holds destructive steps and the per-company warning; continues when it ends", () => {
    const acme = createCompany({ counted: 160, evidence: BAD_SESSION });
    const steps: string[] = [];
    const timeline: string[] = [];
    for (let m = 0; m <= 60; m++) {
      const d = acme.check(T0 + m * MIN, { fleetOffline: m < 41 });
      for (const a of d.actions) timeline.push(`${m}m ${show(a)}`);
      for (const s of d.steps) steps.push(`${m}m ${s.step}`);
    }
    expect(timeline).toEqual([
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "41m alert:down:warning",
      "41m cleanup:smart:down",
      "46m cleanup:reset:down:force",
      "51m qr_required",
      "51m alert:reset_failed:fatal",
    ]);
    // One hold step for the whole outage, not one per check.
    expect(steps.filter((s) => s.includes("hold_outage"))).toEqual(["29m hold_outage"]);
  });

  it("sends no 'look at the logs' alert during an outage: the network is the likely cause", () => {
    const acme = createCompany({ counted: 100 });
    expect(walk(acme, 0, 90, (m) => ({ fleetOffline: m < 60 }))).toEqual([
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "60m alert:down:warning",
      "60m alert:human_needed:critical",
    ]);
  });

  it("holds a connected company's emergency cleanup until the outage ends, with one step", () => {
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 190 });
    const steps: string[] = [];
    const timeline: string[] = [];
    for (let m = 0; m <= 20; m++) {
      const d = acme.check(T0 + m * MIN, { fleetOffline: m < 10 });
      for (const a of d.actions) timeline.push(`${m}m ${show(a)}`);
      for (const s of d.steps) steps.push(`${m}m ${s.step}`);
    }
    expect(timeline).toEqual(["10m cleanup:smart:emergency"]);
    expect(steps).toEqual(["0m hold_outage", "10m cleanup:smart"]);
  });
});

describe("decide: budget", () => {
  it("replaces the action past budget.max by one human_needed alert, then stays silent until recovery", () => {
    const acme = createCompany({ counted: 160, settings: withLadder({ budget: { max: 2, window: 6 * H } }) });
    const steps: string[] = [];
    const timeline: string[] = [];
    for (let m = 0; m <= 5 * 60; m++) {
      const d = acme.check(T0 + m * MIN);
      for (const a of d.actions) timeline.push(`${m}m ${show(a)}`);
      for (const s of d.steps) steps.push(`${m}m ${s.step}`);
    }
    expect(timeline).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m alert:human_needed:critical",
    ]);
    expect(steps).toContain("21m budget_exhausted");
    const text = decide(
      input({
        counted: 160,
        settings: withLadder({ budget: { max: 2, window: 6 * H } }),
        memory: afterReconnects({
          reconnects: 2,
          lastReconnectAt: T0 + 17 * MIN,
          actions: [T0 + 15 * MIN, T0 + 17 * MIN],
        }),
      }),
      T0 + 21 * MIN,
    ).actions[0];
    expect(text).toMatchObject({
      text: "acme: 2 automatic actions in 6h without recovery; the ladder stops acting until it recovers. Look at it by hand. Next: wa-warden does nothing more for acme until it recovers (ladder.budget); by hand: `warden status acme`, `warden reconnect acme`.",
    });

    // Recovery resets everything, budget included; the next episode starts from the bottom.
    const back = acme.check(T0 + 6 * H, { state: "open", downSince: null, code: null });
    expect(back.steps.map((s) => s.step)).toEqual(["recovered"]);
    expect(acme.memory.actions).toEqual([]);
    const later = T0 + 7 * H;
    const next: string[] = [];
    for (let m = 0; m <= 30; m++)
      for (const a of acme.check(later + m * MIN, { downSince: later }).actions)
        next.push(`${m}m ${show(a)}`);
    expect(next).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m alert:human_needed:critical",
    ]);
  });

  it("forgets actions older than budget.window", () => {
    const memory = { ...EMPTY_MEMORY, episode: T0, actions: [T0 - 6 * H, T0 - 6 * H + 1, T0 - 5 * H] };
    const d = decide(
      input({ settings: withLadder({ budget: { max: 2, window: 6 * H } }), memory }),
      T0 + 15 * MIN,
    );
    expect(d.actions.map(show)).toEqual(["alert:down:warning", "reconnect:1"]);
    expect(d.memory.actions).toEqual([T0 - 5 * H, T0 + 15 * MIN]);
  });

  it("starts a new episode fresh when downSince changes, but keeps the budget", () => {
    const acme = createCompany({ counted: 160 });
    expect(walk(acme, 0, 25)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
    ]);
    // It came back and went down again between two checks: a new downSince.
    const second = T0 + 30 * MIN;
    const timeline = walk(acme, 30, 120, () => ({ downSince: second }));
    expect(acme.memory.episode).toBe(second);
    expect(timeline).toEqual([
      "40m alert:down:warning",
      "45m reconnect:1",
      "47m reconnect:2",
      "51m reconnect:3",
      // 6 actions in 6h: the smart cleanup due at 59m is over the default budget.
      "59m alert:human_needed:critical",
    ]);
  });

  it("never emits more than budget.max automatic actions in any window between recoveries (property)", () => {
    const settings = withLadder({ budget: { max: 3, window: H } });
    const check = fc.record({
      state: fc.constantFrom(
        "open",
        "reconnecting",
        "offline",
        "connecting",
        "stopped",
        "pairing",
        "qr_required",
        "replaced",
        null,
      ),
      code: fc.constantFrom(null, 408, 428, 401, 403, 440, 515),
      counted: fc.option(fc.integer({ min: 0, max: 400 })),
      dt: fc.integer({ min: 0, max: 30 * MIN }),
      newEpisode: fc.boolean(),
      fleetOffline: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(check, { maxLength: 200 }), (checks) => {
        let memory: LadderMemory = EMPTY_MEMORY;
        let now = T0;
        let downSince: number | null = null;
        let since: number[] = [];
        for (const c of checks) {
          now += c.dt;
          if (c.state === "open") downSince = null;
          else if (downSince === null || c.newEpisode) downSince = now;
          const d = decide(input({ ...c, downSince, settings, memory }), now);
          memory = d.memory;
          if (c.state === "open") expect(d.actions.filter(isDestructive)).toEqual([]);
          if (d.steps.some((s) => s.step === "recovered")) since = [];
          for (const a of d.actions) if (a.kind !== "alert") since.push(now);
          const inWindow = since.filter((t) => now - t < H);
          expect(inWindow.length).toBeLessThanOrEqual(3);
        }
      }),
      { numRuns: 300 },
    );
  });
});
