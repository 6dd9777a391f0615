/**
 * The pure parts of liveness: the deaf detector, the learned rhythm's hours, WhatsApp's restriction
 * reports, fleet correlation and the ladder's deaf steps. No timers, no files.
 */
import { describe, expect, it } from "vitest";
import { type DeafLadderInput, decideDeaf, EMPTY_DEAF_MEMORY } from "../src/ladder/decide-deaf.js";
import { clockJump, type DeafInput, detectDeaf } from "../src/liveness/detect-deaf.js";
import { correlate } from "../src/liveness/fleet-correlation.js";
import { formatSpan } from "../src/liveness/format-span.js";
import { fromCapping, fromRejections, fromTimelock } from "../src/liveness/restriction.js";
import { comparableHours, HOUR_MS, usualGap, WEEK_MS } from "../src/liveness/rhythm.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 2, 12, 0);
const SETTINGS = { silentAfter: 30 * MIN, gapFactor: 3, queryTimeout: 10_000 };

function input(over: Partial<DeafInput>): DeafInput {
  return {
    openedAt: T0 - 10 * 60 * MIN,
    lastInboundAt: T0 - 5 * MIN,
    hadInbound: true,
    usualGapMs: 6 * MIN,
    settings: SETTINGS,
    lastPing: null,
    ...over,
  };
}

describe("detectDeaf", () => {
  it("is ok below the threshold, asks a ping past half of it, and is deaf only once the ping is answered past it", () => {
    expect(detectDeaf(input({}), T0)).toMatchObject({ state: "ok", ask: false, thresholdMs: 30 * MIN });
    const last = T0 - 20 * MIN;
    expect(detectDeaf(input({ lastInboundAt: last }), T0)).toMatchObject({ state: "ok", ask: true });
    const half = { at: T0 - 4 * MIN, rttMs: 40 };
    expect(detectDeaf(input({ lastInboundAt: last, lastPing: half }), T0)).toMatchObject({
      state: "ok",
      ask: false,
    });
    const late = T0 + 15 * MIN;
    expect(detectDeaf(input({ lastInboundAt: last, lastPing: half }), late)).toMatchObject({
      state: "ok",
      ask: true,
    });
    const v = detectDeaf(input({ lastInboundAt: last, lastPing: { at: late, rttMs: 35 } }), late);
    expect(v).toMatchObject({ state: "deaf", silentForMs: 35 * MIN });
    expect(v.reason).toContain("answers pings (35 ms)");
  });

  it("an unanswered ping makes an open company deaf at once, even below the threshold", () => {
    const v = detectDeaf(input({ lastInboundAt: T0 - 16 * MIN, lastPing: { at: T0, rttMs: null } }), T0);
    expect(v.state).toBe("deaf");
    expect(v.reason).toBe("WhatsApp did not answer a ping within 10 s");
  });

  it("a company without inbound history is quiet, never deaf; a closed socket is not judged", () => {
    expect(detectDeaf(input({ hadInbound: false, lastInboundAt: null }), T0 + 99 * 60 * MIN).state).toBe(
      "quiet",
    );
    expect(detectDeaf(input({ openedAt: null }), T0).state).toBe("unknown");
  });

  it("silence counts from the socket's open: a gap spanning a restart is not silence", () => {
    const v = detectDeaf(input({ openedAt: T0 - 2 * MIN, lastInboundAt: T0 - 5 * 60 * MIN }), T0);
    expect(v).toMatchObject({ state: "ok", silentForMs: 2 * MIN });
  });

  it("the threshold follows the usual gap at this hour (gapFactor x usual when that is longer)", () => {
    const v = detectDeaf(input({ lastInboundAt: T0 - 40 * MIN, usualGapMs: 20 * MIN }), T0);
    expect(v).toMatchObject({ state: "ok", thresholdMs: 60 * MIN, ask: true });
  });

  it("a wall-clock jump is measured against the monotonic clock", () => {
    expect(clockJump(T0, 1000, T0 + 5000, 6000)).toBe(0);
    expect(clockJump(T0, 1000, T0 + 3 * 3_600_000, 6000)).toBe(3 * 3_600_000 - 5000);
    expect(clockJump(T0, 1000, T0 - 3_600_000, 6000)).toBeLessThan(0);
  });
});

describe("learned rhythm", () => {
  it("compares with the same hour of the week, give or take an hour, one and two weeks back", () => {
    const hours = comparableHours(T0 + 17 * MIN);
    expect(hours).toEqual([
      T0 - WEEK_MS - HOUR_MS,
      T0 - WEEK_MS,
      T0 - WEEK_MS + HOUR_MS,
      T0 - 2 * WEEK_MS - HOUR_MS,
      T0 - 2 * WEEK_MS,
      T0 - 2 * WEEK_MS + HOUR_MS,
    ]);
  });

  it("judges against the longest gap before this hour until 14 days are learned, then by hour of the week", () => {
    const source = (oldest: number | null) => ({
      longestGapAt: () => 7,
      longestGapBetween: (_c: string, _f: number, to: number) => (to === T0 ? 42 : null),
      oldestGapHour: () => oldest,
    });
    expect(usualGap(source(null), "acme", T0)).toBeNull();
    expect(usualGap(source(T0 - 13 * 24 * HOUR_MS), "acme", T0 + 17 * MIN)).toBe(42);
    expect(usualGap(source(T0 - 14 * 24 * HOUR_MS), "acme", T0 + 17 * MIN)).toBe(7);
  });
});

describe("restrictions as rc14 reports them", () => {
  it("a reachout timelock until its end, then lifted; capping only when CAPPED", () => {
    const until = new Date(T0 + 3_600_000);
    expect(
      fromTimelock({ isActive: true, timeEnforcementEnds: until, enforcementType: "DEFAULT" }, T0),
    ).toEqual({
      source: "timelock",
      reason: "reachout timelock: new chats blocked by WhatsApp",
      until: until.getTime(),
    });
    expect(fromTimelock({ isActive: true, timeEnforcementEnds: until }, until.getTime() + 1)).toBeNull();
    expect(fromTimelock({ isActive: false }, T0)).toBeNull();
    const end = String((T0 + 86_400_000) / 1000);
    expect(
      fromCapping(
        { capping_status: "CAPPED", used_quota: 50, total_quota: 50, cycle_end_timestamp: end },
        T0,
      ),
    ).toMatchObject({
      reason: "message capping: new-chat quota used up (50/50 used)",
      until: T0 + 86_400_000,
    });
    expect(fromCapping({ capping_status: "FIRST_WARNING" }, T0)).toBeNull();
  });

  it("463/479 rejections restrict only in a burst of three within 10 min, and lift an hour after the last", () => {
    const one = [{ at: T0, code: 463 }];
    expect(fromRejections(one, T0)).toBeNull();
    const burst = [
      { at: T0, code: 463 },
      { at: T0 + MIN, code: 479 },
      { at: T0 + 2 * MIN, code: 463 },
    ];
    expect(fromRejections(burst, T0 + 3 * MIN)?.reason).toBe("sends rejected by WhatsApp (463 x2, 479 x1)");
    expect(fromRejections(burst, T0 + 2 * MIN + 3_600_000)).toBeNull();
    const spread = [
      { at: T0, code: 463 },
      { at: T0 + 20 * MIN, code: 463 },
      { at: T0 + 40 * MIN, code: 463 },
    ];
    expect(fromRejections(spread, T0 + 41 * MIN)).toBeNull();
  });
});

describe("fleet correlation", () => {
  const settings = { share: 0.3, min: 3, window: 5 * MIN };
  it("10 companies logging out within a minute are one incident", () => {
    const failures = Array.from({ length: 10 }, (_, i) => ({
      company: `c${i}`,
      at: T0 + i * 5_000,
      kind: "logout" as const,
    }));
    const found = correlate(failures, 20, settings, T0 + MIN);
    expect(found?.companies).toHaveLength(10);
    expect(found?.text).toBe("WhatsApp-side: 10 companies logged out within 1 min");
  });

  it("needs both the share and the minimum; mixed ways are named", () => {
    const two = [0, 1].map((i) => ({ company: `c${i}`, at: T0, kind: "logout" as const }));
    expect(correlate(two, 4, settings, T0)).toBeNull();
    const three = [0, 1, 2].map((i) => ({ company: `c${i}`, at: T0, kind: "deaf" as const }));
    expect(correlate(three, 11, settings, T0)).toBeNull();
    const mixed = [...three, { company: "c9", at: T0 + 3 * MIN, kind: "logout" as const }];
    expect(correlate(mixed, 10, settings, T0 + 3 * MIN)?.text).toBe(
      "WhatsApp-side: 4 companies failed within 3 min (3 went deaf, 1 logged out)",
    );
    expect(correlate(mixed, 10, settings, T0 + 10 * MIN)).toBeNull();
  });
});

describe("deaf steps of the ladder", () => {
  const facts = {
    state: "deaf",
    reason: null,
    lastInboundAt: T0 - 130 * MIN,
    silentForMs: 130 * MIN,
    usualGapMs: 6 * MIN,
    restrictedReason: null,
    restrictedUntil: null,
  };
  const base: DeafLadderInput = {
    company: "acme",
    open: true,
    active: true,
    liveness: facts,
    settleFor: 10 * MIN,
    held: null,
    memory: { ...EMPTY_DEAF_MEMORY },
  };

  it("alert, reconnect; recreate after settleFor without traffic; one human needed; resolved when traffic returns", () => {
    const d1 = decideDeaf(base, T0);
    expect(d1.actions.map((a) => a.action.kind)).toEqual(["alert", "reconnect"]);
    expect(d1.actions[0]?.action).toMatchObject({
      text: "acme: open but deaf: no incoming messages for 2 h 10 min (usual gap at this hour 6 min).",
    });
    const after = { ...base, liveness: { ...facts, state: "ok" } };
    expect(decideDeaf({ ...after, memory: d1.memory }, T0 + 5 * MIN).actions).toEqual([]);
    const d2 = decideDeaf({ ...after, memory: d1.memory }, T0 + 10 * MIN);
    expect(d2.actions.map((a) => a.step.step)).toEqual(["recreate:deaf"]);
    const d3 = decideDeaf({ ...after, memory: d2.memory }, T0 + 20 * MIN);
    expect(d3.actions.map((a) => a.step.step)).toEqual(["alert:deaf_human_needed"]);
    expect(decideDeaf({ ...after, memory: d3.memory }, T0 + 90 * MIN).actions).toEqual([]);
    const back = { ...after, liveness: { ...after.liveness, lastInboundAt: T0 + 95 * MIN } };
    const d4 = decideDeaf({ ...back, memory: d3.memory }, T0 + 96 * MIN);
    expect(d4.actions.map((a) => a.step.step)).toEqual(["alert:deaf_resolved"]);
    expect(d4.memory.deafSince).toBeNull();
  });

  it("a restricted company: one alert, one resolved, never a reconnect (deaf steps held)", () => {
    const restricted = {
      ...base,
      liveness: {
        ...facts,
        restrictedReason: "reachout timelock: new chats blocked by WhatsApp",
        restrictedUntil: T0 + 3_600_000,
      },
    };
    const d1 = decideDeaf(restricted, T0);
    expect(d1.actions.map((a) => a.step.step)).toEqual(["alert:restricted", "alert:deaf"]);
    expect(d1.notes.map((n) => n.step)).toEqual(["hold:deaf"]);
    const d2 = decideDeaf({ ...restricted, memory: d1.memory }, T0 + 30 * MIN);
    expect(d2.actions).toEqual([]);
    expect(d2.notes).toEqual([]);
    const lifted = { ...base, liveness: { ...facts, state: "ok" } };
    const d3 = decideDeaf({ ...lifted, memory: d2.memory }, T0 + 61 * MIN);
    expect(d3.actions.map((a) => a.step.step)).toEqual(["alert:restricted_resolved", "reconnect:deaf"]);
  });

  it("a fleet hold keeps the alert but no step", () => {
    const d = decideDeaf({ ...base, held: "fleet incident #1" }, T0);
    expect(d.actions.map((a) => a.action.kind)).toEqual(["alert"]);
    expect(d.notes[0]?.reason).toBe("deaf steps held: fleet incident #1");
  });
});

describe("formatSpan", () => {
  it("reads like an operator's sentence", () => {
    expect([
      formatSpan(45_000),
      formatSpan(6 * MIN),
      formatSpan(130 * MIN),
      formatSpan(3 * HOUR_MS),
      formatSpan(50 * HOUR_MS),
    ]).toEqual(["45 s", "6 min", "2 h 10 min", "3 h", "2 d 2 h"]);
  });
});
