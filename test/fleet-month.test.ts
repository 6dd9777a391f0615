/**
 * The simulated fleet month (scripts/fleet-month.ts) with its own harm model, the same month under
 * the shipped defaults and under the seed's naive ladder, judged by the same live/stale rule
 * (LIVE_RULE). A smaller fleet than `npm run bench:month` (100 x 30 days) keeps it within the test
 * budget, yet long enough that the defaults do clean up (a 0 for live deletions means something);
 * company co-007 flaps.
 */
import { describe, expect, it } from "vitest";
import { type PolicyRow, simulateFleetMonth } from "../scripts/fleet-month.js";

describe("a simulated fleet month: shipped defaults vs the seed's naive ladder", () => {
  const month = simulateFleetMonth({ companies: 10, days: 30, seed: 8 });
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

  it("the defaults delete files yet no live one, and the cost of the stale ones is counted", () => {
    expect(defaults.filesDeleted).toBeGreaterThan(0);
    expect(defaults.liveFilesDeleted).toBe(0);
    expect(defaults.liveDeletedBy).toEqual({});
    // Quiet contacts who wrote again soon after the cleanup: stale when deleted, paid as failures.
    expect(defaults.quietBackWithinTwoDays).toBeGreaterThan(0);
    expect(defaults.firstMessageFailures).toBeGreaterThan(0);
  });

  it("the naive ladder is judged by the same rule: it deletes contacts in a conversation and pre-keys the server holds", () => {
    expect(naive.liveDeletedBy["contact in a conversation"]).toBeGreaterThan(0);
    expect(naive.liveDeletedBy["pre-key"]).toBeGreaterThan(0);
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
