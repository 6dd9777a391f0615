import { describe, expect, it } from "vitest";
import { formatDuration } from "../src/config/duration.js";
import { decide, EMPTY_MEMORY, type LadderInput, type LadderMemory } from "../src/ladder/decide.js";
import {
  type ConnectionEvent,
  describeFlaps,
  episodeStartOf,
  flapsOf,
  isFlapping,
} from "../src/ladder/flapping.js";
import { NO_EVIDENCE } from "../src/ladder/key-state-evidence.js";

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const T0 = Date.UTC(2026, 2, 10, 12, 0);
const SETTINGS = { stableAfter: 2 * MIN, flapAlertAt: 4 };

/** A company open 1 minute in 8 from T0, closing with `code`: down 7m, open 1m, ... */
function flapping(cycles: number, code = 500): ConnectionEvent[] {
  const events: ConnectionEvent[] = [{ to: "reconnecting", code, at: T0 }];
  for (let i = 0; i < cycles; i++) {
    const open = T0 + i * 8 * MIN + 7 * MIN;
    events.push({ to: "open", code: null, at: open }, { to: "reconnecting", code, at: open + MIN });
  }
  return events;
}

describe("flapping (pure)", () => {
  it("counts connections shorter than stableAfter within the hour, and says so", () => {
    const events = flapping(10);
    const now = T0 + 80 * MIN;
    const flaps = flapsOf(events, now, SETTINGS.stableAfter);
    expect(flaps.length).toBe(8); // the closes at 24m, 32m ... 80m: within the last hour
    expect(flaps.every((f) => f.closedAt - f.openedAt === MIN && f.code === 500)).toBe(true);
    expect(isFlapping(events, now, SETTINGS)).toBe(true);
    expect(describeFlaps(flaps.slice(0, 2), formatDuration)).toBe(
      "2 connections closed again before they were stable (close codes 500 x2; open 1m, 1m)",
    );
  });

  it("a stable connection ends the flapping and starts a new episode at its close", () => {
    const events = [
      ...flapping(5),
      { to: "open", code: null, at: T0 + 50 * MIN },
      { to: "reconnecting", code: 428, at: T0 + 60 * MIN },
    ];
    expect(episodeStartOf(flapping(5), T0 + 40 * MIN, SETTINGS.stableAfter)).toBe(T0);
    expect(episodeStartOf(events, T0 + 60 * MIN, SETTINGS.stableAfter)).toBe(T0 + 60 * MIN);
    const stableNow = [...flapping(5), { to: "open", code: null, at: T0 + 50 * MIN }];
    expect(isFlapping(stableNow, T0 + 53 * MIN, SETTINGS)).toBe(false);
    expect(isFlapping(stableNow, T0 + 51 * MIN, SETTINGS)).toBe(true);
  });
});

describe("decide: a flapping company", () => {
  const base: LadderInput = {
    company: "acme",
    state: "reconnecting",
    code: 500,
    downSince: T0,
    desired: "run",
    counted: 100,
    evidence: NO_EVIDENCE,
    settings: {
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
        ...SETTINGS,
      },
      maintenance: { window: "03:00-05:00", timezone: "UTC" },
      alerts: { remindEvery: H, hysteresis: 10, escalateAfter: null },
    },
    fleetOffline: false,
    memory: EMPTY_MEMORY,
  };

  /** Open 1 minute in 8 for a day, checked every 30 s as the runner would feed it. */
  function day(code: number) {
    const events = flapping(180, code);
    let memory: LadderMemory = EMPTY_MEMORY;
    const alerts: string[] = [];
    for (let now = T0; now <= T0 + 24 * H; now += 30 * S) {
      const seen = events.filter((e) => e.at <= now);
      const last = seen.at(-1) as ConnectionEvent;
      const open = last.to === "open";
      const downSince = open ? null : episodeStartOf(seen, last.at, SETTINGS.stableAfter);
      const d = decide(
        {
          ...base,
          code,
          state: last.to,
          downSince,
          openSince: open ? last.at : null,
          flaps: flapsOf(seen, now, SETTINGS.stableAfter),
          codesSeen: [{ code, n: seen.filter((e) => e.code === code).length }],
          memory,
        },
        now,
      );
      memory = d.memory;
      for (const { action } of d.actions) if (action.kind === "alert") alerts.push(action.topic);
    }
    return alerts;
  }

  it("one flapping alert a day, not 40; its down episode climbs to one human-needed alert (500 or 408)", () => {
    for (const code of [500, 408]) {
      const alerts = day(code);
      expect(alerts.filter((t) => t === "flapping")).toHaveLength(1);
      expect(alerts.filter((t) => t === "human_needed")).toHaveLength(1);
      expect(alerts.filter((t) => t === "down")).toHaveLength(1);
      expect(alerts).toHaveLength(3);
    }
  });

  it("says 'stable again' once a connection lasts stableAfter", () => {
    const memory = { ...EMPTY_MEMORY, episode: T0, flappingAt: T0 + 30 * MIN };
    const open = { ...base, state: "open", code: null, downSince: null, openSince: T0 + 60 * MIN, memory };
    expect(decide(open, T0 + 61 * MIN).actions).toEqual([]);
    const d = decide(open, T0 + 62 * MIN);
    expect(d.actions.map(({ action }) => (action.kind === "alert" ? action.topic : action.kind))).toEqual([
      "stable",
    ]);
    expect(d.memory.flappingAt).toBeNull();
    expect(d.memory.episode).toBeNull();
  });
});
