import { describe, expect, it } from "vitest";
import { countSnapshot } from "../src/actions/cleanup/count-stale.js";
import { downIntervalsOf, downTimeSince, withoutDownTime } from "../src/actions/cleanup/down-time.js";
import { companyDefaultsSchema } from "../src/config/schema.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 20, 12, 0);

describe("idleness excludes the time a company was down", () => {
  it("reads down intervals from the connection history", () => {
    const events = [
      { to: "connecting", at: NOW - 30 * DAY },
      { to: "open", at: NOW - 30 * DAY + 1_000 },
      { to: "reconnecting", at: NOW - 10 * DAY },
      { to: "reconnecting", at: NOW - 9 * DAY },
      { to: "open", at: NOW - 6 * DAY },
      { to: "offline", at: NOW - DAY },
    ];
    const down = downIntervalsOf(events, NOW);
    expect(down).toEqual([
      { from: NOW - 30 * DAY, to: NOW - 30 * DAY + 1_000 },
      { from: NOW - 10 * DAY, to: NOW - 6 * DAY },
      { from: NOW - DAY, to: NOW },
    ]);
    expect(downTimeSince(down, NOW - 8 * DAY, NOW)).toBe(3 * DAY);
    const [f] = withoutDownTime(
      [{ name: "x", category: "session", size: 1, mtimeMs: NOW - 8 * DAY }],
      down,
      NOW,
    );
    expect(NOW - (f?.mtimeMs ?? 0)).toBe(5 * DAY);
  });

  it("an outage never makes live sessions stale: 12 days quiet of which 4 down is 8 days idle", () => {
    const settings = companyDefaultsSchema.parse({}); // sessionMaxAge 14d, minAge 7d
    const names = ["creds.json", ...Array.from({ length: 30 }, (_, i) => `session-55119${i}.0.json`)];
    const snapshot = {
      total: names.length,
      preKeys: 0,
      names,
      mtimes: new Map(names.map((n) => [n, NOW - 16 * DAY] as [string, number])),
      ownUsers: [],
      newestPreKeyId: null,
    };
    expect(countSnapshot(snapshot, settings, NOW).stale).toBe(30);
    const down = [{ from: NOW - 6 * DAY, to: NOW - 2 * DAY }];
    expect(countSnapshot(snapshot, settings, NOW, down).stale).toBe(0);
  });
});
