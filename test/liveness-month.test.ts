/**
 * A month of traffic through the worker's liveness recorder, minute by minute on a fake clock, with
 * real SQLite: a shop open on weekdays 09:00-18:00, a cafe open every day 07:00-22:00, a company
 * that never receives anything, and a shop that goes deaf on day 24. A worker restart (day 10) and
 * a wall clock 3 h ahead for an hour (day 17, then put back) happen on the way. No false deaf; the real one is found within
 * its threshold. Pings are answered (a deaf socket still answers them: the failure operators see).
 */
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { LivenessRecorder } from "../src/liveness/liveness-recorder.js";
import { openStore } from "../src/store/store.js";
import { tempDir } from "./helpers/temp-dir.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2026-11-02 00:00 UTC. */
const START = Date.UTC(2026, 10, 2);
const SETTINGS = { silentAfter: 30 * MIN, gapFactor: 3, queryTimeout: 10_000 };

/** A small seeded PRNG (mulberry32): the same month every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Pattern {
  /** open at this wall time (the business's own clock, unaffected by our clock jump) */
  open(t: number): boolean;
  /** minutes between two messages while open */
  every: [number, number];
}

const weekdayOf = (t: number) => new Date(t).getUTCDay();
const hourOf = (t: number) => new Date(t).getUTCHours();
const shop: Pattern = {
  open: (t) => weekdayOf(t) >= 1 && weekdayOf(t) <= 5 && hourOf(t) >= 9 && hourOf(t) < 18,
  every: [1, 20],
};
const cafe: Pattern = { open: (t) => hourOf(t) >= 7 && hourOf(t) < 22, every: [1, 8] };
const DEAF_FROM = START + 23 * DAY + 11 * HOUR; // Wednesday of week 4, 11:00

describe("a month of traffic patterns (fake clock, real SQLite)", () => {
  it("no false deaf across nights, weekends, a restart and a clock jump; a real deafness found within its threshold", () => {
    const store = openStore(path.join(tempDir(), "warden.db"));
    let real = START; // the world's time (messages follow it)
    let jump = 0; // what our wall clock is off by after the jump
    let mono = 0;
    const clock = { now: () => real + jump };
    const logger = pino({ level: "silent" });
    let recorder = new LivenessRecorder({ liveness: store.liveness, clock, logger, monotonic: () => mono });
    const companies: Record<string, Pattern | null> = { shop, cafe, quiet: null, victim: shop };
    const random = prng(18);
    const next = new Map<string, number>();
    const openAll = () => {
      for (const c of Object.keys(companies)) recorder.opened(c);
    };
    openAll();
    const deaf: { company: string; at: number; silentForMs: number | null; thresholdMs: number | null }[] =
      [];
    const states = new Map<string, Set<string>>();
    let lastVictimMessage = 0;

    // One transaction per simulated day (the recorder's own writes nest in it): a month runs in seconds.
    const day = (d: number) => {
      for (let minute = d * 24 * 60; minute < (d + 1) * 24 * 60; minute++) step(minute);
    };
    const step = (minute: number) => {
      real = START + minute * MIN;
      mono = minute * MIN;
      if (real === START + 10 * DAY + 12 * HOUR) {
        // A worker restart: everything written, a new recorder reads the store back.
        recorder.close();
        recorder = new LivenessRecorder({ liveness: store.liveness, clock, logger, monotonic: () => mono });
        openAll();
      }
      // The host's wall clock runs 3 h ahead for an hour, then NTP puts it back.
      if (real === START + 17 * DAY + 3 * HOUR) jump = 3 * HOUR;
      if (real === START + 17 * DAY + 4 * HOUR) jump = 0;
      for (const [company, pattern] of Object.entries(companies)) {
        if (!pattern?.open(real)) continue;
        if (company === "victim" && real >= DEAF_FROM) continue;
        if (real < (next.get(company) ?? real)) continue;
        recorder.event(company, { kind: "frame" });
        recorder.event(company, { kind: "inbound" });
        if (company === "victim") lastVictimMessage = real + jump;
        const [lo, hi] = pattern.every;
        next.set(company, real + Math.round(lo + random() * (hi - lo)) * MIN);
      }
      recorder.flush();
      for (const company of Object.keys(companies)) {
        let v = recorder.judge(company, SETTINGS);
        if (v.ask) {
          recorder.pinged(company, { at: clock.now(), rttMs: 20 });
          v = recorder.judge(company, SETTINGS);
        }
        const seen = states.get(company) ?? new Set();
        seen.add(v.state);
        states.set(company, seen);
        if (v.state === "deaf" && !deaf.some((d) => d.company === company))
          deaf.push({ company, at: clock.now(), silentForMs: v.silentForMs, thresholdMs: v.thresholdMs });
      }
    };
    for (let d = 0; d < 30; d++) store.transaction(() => day(d));
    recorder.close();

    expect(deaf.map((d) => d.company)).toEqual(["victim"]);
    const found = deaf[0];
    // Found once its own threshold passed, and no later than a minute after it.
    expect(found?.at).toBeGreaterThanOrEqual(lastVictimMessage + SETTINGS.silentAfter);
    expect((found?.at ?? 0) - lastVictimMessage).toBeLessThanOrEqual((found?.thresholdMs ?? 0) + MIN);
    // Its threshold came from its rhythm on a Wednesday morning: at most 3 x the 20 min gaps seen.
    expect(found?.thresholdMs).toBeLessThanOrEqual(3 * 20 * MIN);
    expect([...(states.get("quiet") ?? [])]).toEqual(["quiet"]);
    expect(states.get("shop")?.has("deaf")).toBe(false);
    // The learned rhythm is in SQLite: the shop's longest Monday-morning gap spans the weekend.
    const mondayNine = START + 28 * DAY + 9 * HOUR;
    expect(store.liveness.longestGapAt("shop", [mondayNine - 7 * DAY])).toBeGreaterThan(60 * HOUR);
    store.close();
  }, 120_000);
});
