/**
 * The simulated fleet month (scripts/fleet-month.ts) with its own harm model, the same month under
 * the shipped defaults and under the seed's naive ladder. A smaller fleet than `npm run
 * bench:month` (100 x 30 days) keeps it within the test budget; company co-007 flaps.
 */
import { describe, expect, it } from "vitest";
import { type PolicyRow, simulateFleetMonth } from "../scripts/fleet-month.js";

describe("a simulated fleet month: shipped defaults vs the seed's naive ladder", () => {
  const month = simulateFleetMonth({ companies: 8, days: 21, seed: 8 });
  const row = (p: PolicyRow["policy"]) => month.rows.find((r) => r.policy === p) as PolicyRow;
  const defaults = row("defaults");
  const naive = row("naive");

  it("sees every kind of disconnect, including 500s no file can fix", () => {
    for (const code of [428, 408, 503, 500, 401])
      expect(month.disconnects[code], String(code)).toBeGreaterThan(0);
  });

  it("the defaults never force a re-pairing, never reset, never stop a socket for nothing", () => {
    expect(defaults.forcedRePairings).toBe(0);
    expect(defaults.resets).toBe(0);
    expect(defaults.socketsStoppedForNothing).toBe(0);
    // Only a real 401 leads to a pairing, under both policies.
    expect(defaults.loggedOutPairings).toBe(month.disconnects[401]);
  });

  it("the naive ladder re-pairs companies whose 500s came from a proxy or a clock, and harms far more", () => {
    expect(naive.forcedRePairings).toBeGreaterThan(0);
    expect(naive.socketsStoppedForNothing).toBeGreaterThan(100);
    expect(naive.liveFilesDeleted).toBeGreaterThan(1_000 * Math.max(1, defaults.liveFilesDeleted));
    expect(naive.firstMessageFailures).toBeGreaterThan(100 * Math.max(1, defaults.firstMessageFailures));
  });

  it("one flapping alert for the flapping company, one 'stable again', and one human-needed alert per long outage at most", () => {
    expect(defaults.alerts.flapping).toBe(1);
    expect(defaults.alerts.stable).toBe(1);
    expect(defaults.alerts.human_needed ?? 0).toBeLessThanOrEqual(defaults.alerts.down ?? 0);
  });
});
