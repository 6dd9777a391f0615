import { describe, expect, it } from "vitest";
import { countBreaks, formatRange, projectNextLevel } from "../src/http/trend.js";

const T = { monitor: 120, warning: 150, critical: 180, fatal: 200 };
const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 30, 12);

describe("projectNextLevel", () => {
  it("extends a steady rise to the next threshold as a range around the fitted date", () => {
    // +10 files a day for 5 days, now at 100: monitor (120) in about 2 days.
    const points = [0, 1, 2, 3, 4].map((d) => ({ at: NOW - (5 - d) * DAY, value: 50 + d * 10 }));
    const p = projectNextLevel({ points, current: 100, thresholds: T, now: NOW });
    expect(p.kind).toBe("range");
    if (p.kind !== "range") return;
    expect(p.level).toBe("monitor");
    expect(p.threshold).toBe(120);
    expect(p.perDay).toBeGreaterThan(8);
    expect(p.perDay).toBeLessThan(12);
    expect(p.earliest).toBeLessThan(NOW + 2 * DAY);
    expect(p.latest).toBeGreaterThan(NOW + 2 * DAY);
    expect(formatRange(p.earliest - NOW, p.latest - NOW)).toMatch(/^in \d+–\d+ days$/);
  });

  it("projects nothing for a count that never changed after a half-written first appearance", () => {
    // The folder appeared with 1 file, a second later 186, then nothing for two days.
    const points = [
      { at: NOW - 2 * DAY, value: 1 },
      { at: NOW - 2 * DAY + 1_000, value: 41 },
    ];
    const p = projectNextLevel({ points, current: 41, thresholds: T, now: NOW });
    expect(p).toMatchObject({ kind: "none", reason: "too-few-changes" });
  });

  it("says there is too little history in the first minutes instead of a date in seconds", () => {
    const points = [
      { at: NOW - 60_000, value: 1 },
      { at: NOW - 59_000, value: 186 },
    ];
    const p = projectNextLevel({ points, current: 186, level: "critical", thresholds: T, now: NOW });
    expect(p).toMatchObject({ kind: "none", reason: "too-short-span" });
    if (p.kind === "none") expect(p.why).toContain("1 day");
  });

  it("never projects a level the company is already at (the alert level counts)", () => {
    // 178 files held at critical by hysteresis, rising 2 a day: the next level is fatal, not critical.
    const points = [0, 1, 2, 3, 4].map((d) => ({ at: NOW - (5 - d) * DAY, value: 168 + d * 2 }));
    const p = projectNextLevel({ points, current: 178, level: "critical", thresholds: T, now: NOW });
    expect(p).toMatchObject({ kind: "range", level: "fatal", threshold: 200 });
  });

  it("ignores the jump of a cleanup or restore: the trend starts after it", () => {
    // Rising fast before a restore two days ago that put the count back at 60; steady since.
    const points = [
      ...[0, 1, 2].map((d) => ({ at: NOW - (6 - d) * DAY, value: 100 + d * 30 })),
      { at: NOW - 2 * DAY, value: 60 },
      { at: NOW - 2 * DAY + 5 * 60_000, value: 61 },
    ];
    const audit = [
      { at: NOW - 2 * DAY, action: "restore", ok: true },
      { at: NOW - 3 * DAY, action: "backup", ok: true },
      { at: NOW - DAY, action: "cleanup", ok: false },
    ];
    expect(countBreaks(audit)).toEqual([NOW - 2 * DAY]);
    const p = projectNextLevel({ points, current: 61, thresholds: T, now: NOW, breaks: countBreaks(audit) });
    expect(p).toMatchObject({ kind: "none", reason: "too-few-changes" });
  });

  it("gives no date for a falling count, the top level, or a rise too slow for the horizon", () => {
    const falling = [0, 1, 2, 3].map((d) => ({ at: NOW - (4 - d) * DAY, value: 150 - d * 10 }));
    expect(projectNextLevel({ points: falling, current: 110, thresholds: T, now: NOW })).toMatchObject({
      kind: "none",
      reason: "not-rising",
    });
    expect(projectNextLevel({ points: falling, current: 250, thresholds: T, now: NOW })).toMatchObject({
      kind: "none",
      reason: "highest-level",
    });
    const slow = [0, 1, 2, 3].map((d) => ({ at: NOW - (4 - d) * DAY, value: 1 + Math.floor(d / 3) }));
    expect(projectNextLevel({ points: slow, current: 2, thresholds: T, now: NOW }).kind).toBe("none");
  });
});

describe("formatRange", () => {
  it("uses whole units chosen by the far end, never seconds", () => {
    expect(formatRange(2.2 * DAY, 3.6 * DAY)).toBe("in 2–4 days");
    expect(formatRange(5.5 * HOUR, 8.2 * HOUR)).toBe("in 5–9 hours");
    expect(formatRange(20 * 60_000, 50 * 60_000)).toBe("in 20–50 min");
    expect(formatRange(10 * 60_000, 1.5 * HOUR)).toBe("in 10–90 min");
    expect(formatRange(1_000, 30_000)).toBe("within 1 min");
  });
});
