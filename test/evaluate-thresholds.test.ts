import { describe, expect, it } from "vitest";
import {
  type AlertState,
  evaluateThresholds,
  levelFor,
  type ThresholdSettings,
} from "../src/alerts/evaluate-thresholds.js";

const settings: ThresholdSettings = {
  thresholds: { monitor: 120, warning: 150, critical: 180, fatal: 200 },
  alerts: { remindEvery: 3_600_000, hysteresis: 10 },
  mutedUntil: null,
};

/** Feeds a series of counts at the given times; returns the alerts as "kind:level@t". */
function run(series: [number, number][], s = settings): string[] {
  let state: AlertState | undefined;
  const out: string[] = [];
  for (const [t, counted] of series) {
    const r = evaluateThresholds(state, counted, s, t);
    state = r.state;
    for (const a of r.alerts) out.push(`${a.kind}:${a.level}@${t}`);
  }
  return out;
}

describe("evaluateThresholds", () => {
  it("maps counts to levels at the thresholds", () => {
    expect(
      [119, 120, 149, 150, 179, 180, 199, 200, 5000].map((n) => levelFor(n, settings.thresholds)),
    ).toEqual(["ok", "monitor", "monitor", "warning", "warning", "critical", "critical", "fatal", "fatal"]);
  });

  it("fires each level once when crossed upwards, not on every tick", () => {
    expect(
      run([
        [0, 100],
        [1, 120],
        [2, 121],
        [3, 150],
        [4, 150],
        [5, 151],
        [6, 180],
        [7, 200],
      ]),
    ).toEqual(["level:monitor@1", "level:warning@3", "level:critical@6", "level:fatal@7"]);
  });

  it("sends only the highest level on a jump", () => {
    expect(
      run([
        [0, 10],
        [1, 190],
      ]),
    ).toEqual(["level:critical@1"]);
  });

  it("does not flap around a threshold (hysteresis) and resolves once below monitor - hysteresis", () => {
    expect(
      run([
        [0, 150],
        [1, 149],
        [2, 150],
        [3, 141],
        [4, 150],
        [5, 139],
        [6, 150],
        [7, 111],
        [8, 110],
        [9, 109],
        [10, 100],
      ]),
    ).toEqual(["level:warning@0", "level:warning@6", "resolved:ok@9"]);
  });

  it("repeats critical and fatal every remindEvery, never monitor or warning", () => {
    const h = 3_600_000;
    expect(
      run([
        [0, 155],
        [h, 155],
        [2 * h, 155],
      ]),
    ).toEqual(["level:warning@0"]);
    expect(
      run([
        [0, 185],
        [h - 1, 185],
        [h, 186],
        [2 * h - 1, 186],
        [2 * h, 205],
      ]),
    ).toEqual(["level:critical@0", `reminder:critical@${h}`, `level:fatal@${2 * h}`]);
  });

  it("sends nothing while muted, but keeps the level; reminders resume after the mute", () => {
    const muted = { ...settings, mutedUntil: 1_000 };
    expect(
      run(
        [
          [0, 185],
          [500, 200],
          [999, 200],
        ],
        muted,
      ),
    ).toEqual([]);
    let state: AlertState | undefined;
    for (const [t, n] of [
      [0, 185],
      [500, 200],
    ] as const)
      state = evaluateThresholds(state, n, muted, t).state;
    expect(state?.level).toBe("fatal");
    expect(evaluateThresholds(state, 200, muted, 1_000).alerts).toEqual([
      { kind: "reminder", level: "fatal", from: "fatal" },
    ]);
  });

  it("uses per-company thresholds", () => {
    const custom = { ...settings, thresholds: { monitor: 10, warning: 20, critical: 30, fatal: 40 } };
    expect(run([[0, 25]], custom)).toEqual(["level:warning@0"]);
  });
});
