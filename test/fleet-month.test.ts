/**
 * Issue 8's simulated fleet month: the pure ladder and planners over a Baileys v7 growth model with
 * a fake clock (scripts/fleet-month.ts). A smaller fleet than `npm run bench:month` (100 x 30 days)
 * keeps it within the test budget; the rules checked are the same.
 */
import { describe, expect, it } from "vitest";
import { simulateFleetMonth } from "../scripts/fleet-month.js";

describe("a simulated fleet month (v7 growth, realistic disconnects)", () => {
  const month = simulateFleetMonth({ companies: 15, days: 30, seed: 8 });

  it("sees every kind of disconnect", () => {
    for (const code of [428, 408, 503, 500, 401, 440])
      expect(month.disconnects[code], String(code)).toBeGreaterThan(0);
  });

  it("never resets without key-state evidence, and resets at most once per badSession episode", () => {
    expect(month.resetsWithoutEvidence).toBe(0);
    expect(month.resets).toBeLessThanOrEqual(month.disconnects[500] ?? 0);
  });

  it("never stops a connected company for a cleanup below ladder.minCleanupFiles", () => {
    expect(month.stops).toBeGreaterThan(0);
    expect(month.stopsBelowMinCleanupFiles).toBe(0);
    expect(month.smallestStopDeleted).toBeGreaterThanOrEqual(20);
  });

  it("keeps stale counts bounded once the history before the month is cleaned", () => {
    // The ladder cleans at warning (150) in the maintenance window and at critical (180) at once.
    expect(month.maxStaleSteady).toBeLessThan(200);
    expect(month.finalStale.max).toBeLessThan(200);
  });

  it("declares QR required for every 401, and never deletes our own user's files or young files", () => {
    expect(month.loggedOut).toBeGreaterThan(0);
    expect(month.loggedOutWithQr).toBe(month.loggedOut);
    expect(month.ownFilesDeleted).toBe(0);
    expect(month.youngFilesDeleted).toBe(0);
  });
});
