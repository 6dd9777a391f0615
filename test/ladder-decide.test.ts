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
    autoReset: false,
    maxBackoff: 30 * MIN,
    stableAfter: 2 * MIN,
    flapAlertAt: 4,
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

/** Many 500 closes in the episode: described, never evidence. */
const BAD_SESSION = { badSessionCloses: 14, decryptStorm: null } as const;
/** A company behind a TLS-inspecting proxy: 500 on every retry, the probe passes. */
const TLS_500: Partial<LadderInput> = {
  counted: 160,
  code: 500,
  evidence: BAD_SESSION,
  codesSeen: [{ code: 500, n: 14 }],
  lastClose: {
    code: 500,
    message: "WebSocket Error (self-signed certificate); retry 6 in 60000 ms",
    at: T0 + 28 * MIN,
  },
  probe: { ok: true, detail: "web.whatsapp.com:443" },
};
/** A decrypt-failure storm: the one thing key files can cause (key-state-evidence.ts). */
const STORM = { badSessionCloses: 0, decryptStorm: { failures: 30, byReason: { "Bad MAC": 30 } } } as const;

const isDestructive = (a: LadderAction) =>
  a.kind === "qr_required" || (a.kind === "cleanup" && (a.mode === "reset" || a.why === "down"));

/** The ladder's own climb, without the reconnects it keeps requesting after "human needed". */
function climb(lines: string[]): string[] {
  const human = lines.findIndex((l) => l.includes("alert:human_needed"));
  return human < 0
    ? lines
    : [...lines.slice(0, human + 1), ...lines.slice(human + 1).filter((l) => !l.includes("reconnect"))];
}

describe("decide: a down company climbs the ladder", () => {
  it("never resets nor asks for a QR on 500 closes: one human-needed alert with the evidence (defaults)", () => {
    const acme = createCompany(TLS_500);
    const timeline = walk(acme, 0, 24 * 60);
    expect(climb(timeline)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m alert:human_needed:critical",
    ]);
    expect(timeline.filter((l) => !l.includes("reconnect")).length).toBe(2);
    const human = decide(input({ ...TLS_500, memory: afterReconnects() }), T0 + 29 * MIN).actions[0];
    expect(human).toMatchObject({ kind: "alert", topic: "human_needed" });
    const text = (human as { text: string }).text;
    expect(text).toContain("Close codes seen: 500 bad session");
    expect(text).toContain("x14");
    expect(text).toContain('Last error: "WebSocket Error (self-signed certificate)" (500, 1m ago)');
    expect(text).toContain("Connectivity probe: passes (web.whatsapp.com:443)");
    expect(text).toContain("500 closes are not evidence of broken keys");
    expect(text).toContain("Done so far: 3 reconnect requests, no file deleted.");
    expect(text).toContain("`npm run warden -- cleanup acme --reset --stop`");
    expect(text).toContain("/cleanup acme");
    expect(text).not.toMatch(/--new|scan|paired again|QR/);
  });

  it("keeps requesting reconnects after the human-needed alert, backing off to ladder.maxBackoff", () => {
    const acme = createCompany({ counted: 100 });
    const lines = walk(acme, 0, 6 * 60).filter((l) => l.includes("reconnect"));
    const minutes = lines.map((l) => Number.parseInt(l, 10));
    expect(minutes.slice(0, 6)).toEqual([15, 17, 21, 30, 46, 76]);
    const gaps = minutes.slice(1).map((m, i) => m - (minutes[i] as number));
    expect(Math.max(...gaps)).toBe(30);
  });

  it("with ladder.autoReset, 500 closes alone still never reset", () => {
    const acme = createCompany({
      counted: 160,
      code: 500,
      evidence: BAD_SESSION,
      settings: withLadder({ autoReset: true }),
    });
    const lines = walk(acme, 0, 24 * 60);
    expect(climb(lines)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m alert:human_needed:critical",
    ]);
  });

  it("with a decrypt storm: a smart cleanup, then a human (autoReset off) or a reset (autoReset on), never a QR", () => {
    const off = createCompany({ counted: 160, evidence: STORM });
    expect(climb(walk(off, 0, 24 * 60))).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m cleanup:smart:down",
      "34m alert:human_needed:critical",
    ]);
    const on = createCompany({ counted: 160, evidence: STORM, settings: withLadder({ autoReset: true }) });
    expect(climb(walk(on, 0, 24 * 60))).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m cleanup:smart:down",
      "34m cleanup:reset:down:force",
      "39m alert:human_needed:critical",
    ]);
    const after = decide(
      input({
        counted: 160,
        evidence: STORM,
        memory: afterReconnects({
          cleanupAt: T0 + 29 * MIN,
          lastCleanup: { at: T0 + 29 * MIN, mode: "smart", deleted: 34, backup: "/b/acme.tar" },
        }),
      }),
      T0 + 34 * MIN,
    ).actions[0] as { text: string };
    expect(after.text).toContain("a smart cleanup 5m ago deleted 34 files (backup /b/acme.tar)");
    expect(after.text).not.toContain("no file deleted");
  });

  it("with autoReset and a storm whose smart plan holds nothing, goes to the reset", () => {
    const acme = createCompany({
      counted: 0,
      evidence: STORM,
      settings: withLadder({ autoReset: true }),
      files: { total: 900, stale: 3, heldByMinAge: 0, heldUntil: null },
    });
    expect(climb(walk(acme, 0, 24 * 60))).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "29m cleanup:reset:down:force",
      "34m alert:human_needed:critical",
    ]);
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
    expect(acme.check(T0 + 29 * MIN).actions.map(show)).toEqual(["alert:human_needed:critical"]);
  });

  it("warns once even if checks are rare, and starts reconnecting where it is", () => {
    const acme = createCompany();
    expect(acme.check(T0 + 2 * H).actions.map(show)).toEqual(["alert:down:warning", "reconnect:1"]);
    expect(acme.check(T0 + 2 * H).actions).toEqual([]);
    expect(acme.check(T0 + 2 * H + 2 * MIN).actions.map(show)).toEqual(["reconnect:2"]);
  });

  it("never cleans a down company without evidence, whatever its count (files cannot keep it down)", () => {
    for (const counted of [null, 0, 149, 160, 205, 900]) {
      const acme = createCompany({ counted, code: 408, codesSeen: [{ code: 408, n: 4 }] });
      const lines = walk(acme, 0, 24 * 60);
      expect(climb(lines)).toEqual([
        "10m alert:down:warning",
        "15m reconnect:1",
        "17m reconnect:2",
        "21m reconnect:3",
        "29m alert:human_needed:critical",
      ]);
    }
    const text = decide(
      input({
        counted: 205,
        codesSeen: [
          { code: 408, n: 4 },
          { code: 503, n: 1 },
        ],
        memory: afterReconnects(),
      }),
      T0 + 34 * MIN,
    ).actions[0];
    expect(text).toMatchObject({
      text: expect.stringContaining(
        "Close codes seen: 408 connection lost / timed out x4, 503 WhatsApp unavailable x1",
      ),
    });
    expect(text).toMatchObject({ text: expect.stringContaining("deletes nothing more") });
    expect(text).toMatchObject({ text: expect.not.stringContaining("500") });
  });

  it("never does anything destructive to a down company without evidence (two days, irregular checks)", () => {
    const acme = createCompany();
    const seen: LadderAction[] = [];
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += ((i * 7919) % 97) * 1_000 + 1_000;
      seen.push(...acme.check(now, { counted: (i * 131) % 400 }).actions);
    }
    expect(now - T0).toBeGreaterThan(2 * 86_400_000);
    expect(seen.filter(isDestructive)).toEqual([]);
    expect(seen.filter((a) => a.kind === "cleanup")).toEqual([]);
    expect(seen.filter((a) => a.kind === "alert").map(show)).toEqual([
      "alert:down:warning",
      "alert:human_needed:critical",
    ]);
  });
});

describe("decide: close codes (only 401 is QR required)", () => {
  const cases: [number, string, string | RegExp][] = [
    [401, "qr_required", "WhatsApp logged this device out (401 logged out, device_removed included)"],
    [403, "forbidden", "WhatsApp refuses this account (forbidden: possibly banned)"],
    [411, "multidevice_mismatch", "411 multidevice mismatch"],
    [440, "replaced", "440 connection replaced"],
    [405, "outdated_client", "405 outdated client"],
    [500, "reconnecting", "500 bad session"],
    [503, "reconnecting", "503 WhatsApp unavailable"],
    [408, "reconnecting", "408 connection lost"],
    [428, "reconnecting", "428 connection closed"],
  ];
  it.each(cases)(
    "close %i (state %s): its own truthful text; QR required only for 401",
    (code, state, says) => {
      const acme = createCompany({ state, code, codesSeen: [{ code, n: 3 }], counted: 250 });
      const actions: LadderAction[] = [];
      for (let m = 0; m <= 24 * 60; m++) actions.push(...acme.check(T0 + m * MIN).actions);
      const texts = actions.flatMap((a) => (a.kind === "alert" ? [a.text] : []));
      expect(texts.join("\n")).toContain(says);
      const qr = actions.filter(
        (a) => a.kind === "qr_required" || (a.kind === "alert" && a.topic === "qr_required"),
      );
      const pairAdvice = texts.filter((t) => /--new|scan|paired again|pair again/.test(t));
      if (code === 401) {
        expect(qr.length).toBe(2);
        expect(pairAdvice.length).toBe(1);
      } else {
        expect(qr).toEqual([]);
        expect(pairAdvice).toEqual([]);
      }
      expect(actions.filter((a) => a.kind === "cleanup")).toEqual([]);
      expect(
        texts.filter((t) => /human|still down|refuses|replaced|rejects|multidevice/.test(t)).length,
      ).toBeLessThanOrEqual(2);
    },
  );

  it("declares QR required at once on 401, once, and deletes nothing", () => {
    const acme = createCompany({ state: "qr_required", code: 401, counted: 250 });
    const first = acme.check(T0);
    expect(first.actions.map(show)).toEqual(["qr_required", "alert:qr_required:fatal"]);
    expect(first.steps.map((s) => s.step)).toEqual(["qr_required", "alert:qr_required"]);
    expect(walk(acme, 1, 24 * 60)).toEqual([]);
  });

  it("treats a 401 close code as QR required whatever the state says", () => {
    const acme = createCompany({ state: "reconnecting", code: 401 });
    expect(walk(acme, 0, 120)).toEqual(["0m qr_required", "0m alert:qr_required:fatal"]);
  });

  it("a qr_required row left by a 411 is not a logout", () => {
    const acme = createCompany({ state: "qr_required", code: 411 });
    expect(walk(acme, 0, 120)).toEqual(["0m alert:human_needed:critical"]);
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
  it("cleans at fatal once per emergencyCooldown, never resets nor asks for a QR", () => {
    // critical alone waits for the maintenance window: no stop at 12:00 UTC.
    expect(walk(createCompany({ state: "open", code: null, downSince: null, counted: 185 }), 0, 150)).toEqual(
      [],
    );
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 205 });
    // 12:00 to 14:30 UTC: outside the maintenance window.
    expect(walk(acme, 0, 150)).toEqual([
      "0m cleanup:smart:emergency",
      "60m cleanup:smart:emergency",
      "120m cleanup:smart:emergency",
    ]);
    const d = decide(input({ state: "open", downSince: null, counted: 205 }), T0);
    expect(d.steps).toEqual([
      {
        step: "cleanup:smart",
        reason: "connected, 205 counted files >= fatal 200: emergency cleanup of 205 stale files",
      },
    ]);
    expect(d.actions).toEqual([{ kind: "cleanup", mode: "smart", why: "emergency", force: false }]);
  });

  it("never stops a connected company for a cleanup that cannot help: one alert per level episode instead", () => {
    // basis "counted": 205 counted files of which only 12 stale (< minCleanupFiles 20).
    const files = { total: 1000, stale: 12, heldByMinAge: 30, heldUntil: Date.UTC(2026, 2, 12, 8, 0) };
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 205, files });
    expect(walk(acme, 0, 300)).toEqual(["0m alert:cannot_help:warning"]);
    // Below warning ends the level episode; back at fatal, one alert again.
    walk(acme, 301, 302, () => ({ counted: 100 }));
    expect(walk(acme, 303, 400)).toEqual(["303m alert:cannot_help:warning"]);
    const d = decide(input({ state: "open", code: null, downSince: null, counted: 205, files }), T0);
    expect(d.actions[0]).toMatchObject({
      text: expect.stringContaining(
        "cleanup cannot help now: 988 live files, 12 stale, 30 more kept by minAge until 2026-03-12 08:00 UTC",
      ),
    });
    expect(d.actions[0]).toMatchObject({ text: expect.stringContaining("for an emergency cleanup") });
    expect(d.actions[0]).toMatchObject({ text: expect.not.stringContaining("--dry-run") });
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
    walk(acme, 0, 29);
    expect(acme.memory).toMatchObject({ reconnects: 3, humanNeededAt: T0 + 29 * MIN });
    const back = acme.check(T0 + 31 * MIN, { state: "open", downSince: null, code: null });
    expect(back.steps).toEqual([
      {
        step: "recovered",
        reason: "connected again after 31m down; the ladder had requested: 3 reconnects",
      },
    ]);
    expect(back.actions).toEqual([]);
    expect(acme.memory).toEqual({ ...EMPTY_MEMORY, actions: [] });
    expect(acme.check(T0 + 32 * MIN, { state: "open", downSince: null }).steps).toEqual([]);
  });
});

describe("decide: network outage", () => {
  it("reconnects but holds destructive steps and the per-company warning; continues when it ends", () => {
    const acme = createCompany({ counted: 160, evidence: STORM, settings: withLadder({ autoReset: true }) });
    const steps: string[] = [];
    const timeline: string[] = [];
    for (let m = 0; m <= 60; m++) {
      const d = acme.check(T0 + m * MIN, { fleetOffline: m < 41 });
      for (const a of d.actions) timeline.push(`${m}m ${show(a)}`);
      for (const s of d.steps) steps.push(`${m}m ${s.step}`);
    }
    expect(climb(timeline)).toEqual([
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "41m alert:down:warning",
      "41m cleanup:smart:down",
      "46m cleanup:reset:down:force",
      "51m alert:human_needed:critical",
    ]);
    // One hold step for the whole outage, not one per check.
    expect(steps.filter((s) => s.includes("hold_outage"))).toEqual(["29m hold_outage"]);
  });

  it("sends no 'look at the logs' alert during an outage: the network is the likely cause", () => {
    const acme = createCompany({ counted: 100 });
    expect(climb(walk(acme, 0, 90, (m) => ({ fleetOffline: m < 60 })))).toEqual([
      "15m reconnect:1",
      "17m reconnect:2",
      "21m reconnect:3",
      "60m alert:down:warning",
      "60m alert:human_needed:critical",
    ]);
  });

  it("holds a connected company's emergency cleanup until the outage ends, with one step", () => {
    const acme = createCompany({ state: "open", code: null, downSince: null, counted: 205 });
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
    expect(climb(timeline)).toEqual([
      "10m alert:down:warning",
      "15m reconnect:1",
      "17m reconnect:2",
      "21m alert:human_needed:critical",
    ]);
    // Exactly one thing at 21m (the budget's human_needed alert instead of the 3rd reconnect), then
    // silence: no alert, no cleanup, only reconnect requests backing off to ladder.maxBackoff (30m).
    expect(steps).toEqual([
      "10m alert:down",
      "15m reconnect",
      "17m reconnect",
      "21m budget_exhausted",
      "21m alert:human_needed",
      ...[22, 30, 46, 76, 106, 136, 166, 196, 226, 256, 286].map((m) => `${m}m reconnect`),
    ]);
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
      text: "acme: 2 automatic actions in 6h without recovery (ladder.budget 2); not done: down 21m, 3rd reconnect of 3. Next: wa-warden only keeps requesting reconnects until it recovers, at most 30m apart, and deletes nothing; by hand: `npm run warden -- status acme`, `npm run warden -- reconnect acme`.",
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
    expect(climb(next)).toEqual([
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
    expect(climb(timeline)).toEqual([
      "40m alert:down:warning",
      "45m reconnect:1",
      "47m reconnect:2",
      "51m reconnect:3",
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
          // The reconnects requested after "human needed" are outside the budget by design.
          for (const st of d.steps)
            if (/^(reconnect|cleanup:|qr_required)/.test(st.step) && !st.reason.includes("human needed"))
              since.push(now);
          const inWindow = since.filter((t) => now - t < H);
          expect(inWindow.length).toBeLessThanOrEqual(3);
        }
      }),
      { numRuns: 300 },
    );
  });
});
