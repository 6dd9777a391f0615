import { describe, expect, it } from "vitest";
import { ErrorCodes, WardenError } from "../src/errors.js";
import { inMaintenanceWindow, maintenanceWindowKey } from "../src/ladder/maintenance-window.js";
import { detectOutage, type OutageInput } from "../src/ladder/outage.js";

const MIN = 60_000;
const utc = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

describe("inMaintenanceWindow", () => {
  it("includes the start and excludes the end", () => {
    const at = (h: number, m: number) => inMaintenanceWindow(utc(2026, 11, 23, h, m), "03:00-05:00", "UTC");
    expect([at(2, 59), at(3, 0), at(4, 59), at(5, 0), at(12, 0)]).toEqual([false, true, true, false, false]);
  });

  it("is never open for null or an empty window", () => {
    for (let m = 0; m < 24 * 60; m += 15) {
      const now = utc(2026, 11, 23, 0) + m * MIN;
      expect(inMaintenanceWindow(now, null, "UTC")).toBe(false);
      expect(inMaintenanceWindow(now, "03:00-03:00", "UTC")).toBe(false);
      expect(maintenanceWindowKey(now, null, "UTC")).toBeNull();
      expect(maintenanceWindowKey(now, "03:00-03:00", "UTC")).toBeNull();
    }
  });

  it("crosses midnight", () => {
    const at = (d: number, h: number, m: number) =>
      inMaintenanceWindow(utc(2026, 11, d, h, m), "22:30-01:00", "UTC");
    expect([
      at(23, 22, 29),
      at(23, 22, 30),
      at(23, 23, 59),
      at(24, 0, 0),
      at(24, 0, 59),
      at(24, 1, 0),
    ]).toEqual([false, true, true, true, true, false]);
  });

  it("reads the local time of the zone, half-hour offsets included", () => {
    // Asia/Kolkata is UTC+05:30 all year: 03:00-05:00 local is 21:30-23:30 UTC the day before.
    const kolkata = (h: number, m: number) =>
      inMaintenanceWindow(utc(2026, 1, 9, h, m), "03:00-05:00", "Asia/Kolkata");
    expect([kolkata(21, 29), kolkata(21, 30), kolkata(23, 29), kolkata(23, 30)]).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(maintenanceWindowKey(utc(2026, 1, 9, 21, 30), "03:00-05:00", "Asia/Kolkata")).toBe("2026-01-10");
    // São Paulo is UTC-3 (no DST since 2019): 22:30-01:00 local is 01:30-04:00 UTC.
    const sp = (h: number, m: number) =>
      inMaintenanceWindow(utc(2026, 1, 10, h, m), "22:30-01:00", "America/Sao_Paulo");
    expect([sp(1, 29), sp(1, 30), sp(3, 59), sp(4, 0)]).toEqual([false, true, true, false]);
  });

  it("follows the wall clock across a DST change", () => {
    // Berlin springs forward on 2026-03-29 at 01:00 UTC (02:00 CET → 03:00 CEST): the window
    // 01:00-04:00 local lasts two real hours that day, 00:00-02:00 UTC.
    const berlin = (d: number, h: number, m: number) =>
      inMaintenanceWindow(utc(2026, 3, d, h, m), "01:00-04:00", "Europe/Berlin");
    expect([
      berlin(28, 23, 59),
      berlin(29, 0, 0),
      berlin(29, 0, 59),
      berlin(29, 1, 0),
      berlin(29, 1, 59),
    ]).toEqual([false, true, true, true, true]);
    expect(berlin(29, 2, 0)).toBe(false);
    expect(maintenanceWindowKey(utc(2026, 3, 29, 0, 0), "01:00-04:00", "Europe/Berlin")).toBe("2026-03-29");
    expect(maintenanceWindowKey(utc(2026, 3, 29, 1, 30), "01:00-04:00", "Europe/Berlin")).toBe("2026-03-29");
  });

  it("rejects a window the schema would have rejected, with the config error code", () => {
    expect(() => inMaintenanceWindow(0, "3:00-5:00", "UTC")).toThrow(WardenError);
    const thrown = (() => {
      try {
        maintenanceWindowKey(0, "03:00 to 05:00", "UTC");
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(WardenError);
    expect((thrown as WardenError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((thrown as WardenError).message).toContain("maintenance.window");
  });
});

describe("maintenanceWindowKey", () => {
  it("is the local date the occurrence started on, stable through it, new the next day", () => {
    const keysOf = (from: number, to: number, window: string, zone: string) => {
      const keys = new Set<string | null>();
      for (let t = from; t < to; t += MIN) keys.add(maintenanceWindowKey(t, window, zone));
      return [...keys];
    };
    // 22:30-01:00 in São Paulo = 01:30-04:00 UTC.
    expect(
      keysOf(utc(2026, 11, 24, 1, 30), utc(2026, 11, 24, 4, 0), "22:30-01:00", "America/Sao_Paulo"),
    ).toEqual(["2026-11-23"]);
    expect(
      keysOf(utc(2026, 11, 25, 1, 30), utc(2026, 11, 25, 4, 0), "22:30-01:00", "America/Sao_Paulo"),
    ).toEqual(["2026-11-24"]);
    // A whole day: null outside, one key per occurrence.
    expect(keysOf(utc(2026, 11, 23, 0), utc(2026, 11, 25, 0), "03:00-05:00", "UTC")).toEqual([
      null,
      "2026-11-23",
      "2026-11-24",
    ]);
  });

  it("dates a midnight-crossing occurrence by its start, also across a month and a year", () => {
    expect(maintenanceWindowKey(utc(2027, 1, 1, 0, 30), "22:30-01:00", "UTC")).toBe("2026-12-31");
    expect(maintenanceWindowKey(utc(2026, 3, 1, 0, 30), "22:30-01:00", "UTC")).toBe("2026-02-28");
    expect(maintenanceWindowKey(utc(2026, 12, 31, 23, 0), "22:30-01:00", "UTC")).toBe("2026-12-31");
  });
});

const SETTINGS: OutageInput["settings"] = { outageShare: 0.5, outageMinCompanies: 3, outageWindow: 2 * MIN };
const T0 = utc(2026, 3, 10, 12);

/** `total` companies c0..; `down` maps an index to its downSince (minutes after T0) or a [state, minute]. */
function fleet(
  total: number,
  down: Record<number, number | [string | null, number]>,
): OutageInput["companies"] {
  return Array.from({ length: total }, (_, i) => {
    const d = down[i];
    if (d === undefined) return { company: `c${i}`, state: "open", downSince: null };
    const [state, minute] = typeof d === "number" ? ["reconnecting", d] : d;
    return { company: `c${i}`, state, downSince: T0 + minute * MIN };
  });
}

const check = (companies: OutageInput["companies"], over: Partial<OutageInput> = {}) =>
  detectOutage({ companies, probeOk: true, wasOffline: false, settings: SETTINGS, ...over }, T0 + 10 * MIN);

describe("detectOutage", () => {
  it("calls the fleet offline when a share of it went down within one window", () => {
    expect(check(fleet(10, { 0: 0, 1: 0.5, 2: 1, 3: 1.5, 4: 2, 5: 2 }))).toEqual({
      offline: true,
      reason: "6 of 10 companies went down within 2m",
      down: ["c0", "c1", "c2", "c3", "c4", "c5"],
    });
    expect(check(fleet(10, { 0: 0, 1: 0, 2: 0, 3: 0 }))).toEqual({ offline: false, reason: null, down: [] });
  });

  it("needs them close together: the same number spread over time is companies failing one by one", () => {
    expect(check(fleet(10, { 0: 0, 1: 1, 2: 2, 3: 5, 4: 6 })).offline).toBe(false);
    // Exactly outageWindow apart still counts as together.
    expect(check(fleet(10, { 0: 0, 1: 1, 2: 2, 3: 2, 4: 2 }))).toMatchObject({
      offline: true,
      down: ["c0", "c1", "c2", "c3", "c4"],
    });
    // The group that counts is the densest one, wherever it is.
    expect(check(fleet(10, { 0: 0, 1: 30, 2: 31, 3: 31, 4: 32, 5: 32, 6: 60 }))).toMatchObject({
      offline: true,
      down: ["c1", "c2", "c3", "c4", "c5"],
    });
  });

  it("needs at least outageMinCompanies, however small the fleet", () => {
    expect(check(fleet(4, { 0: 0, 1: 0 })).offline).toBe(false);
    expect(check(fleet(4, { 0: 0, 1: 0, 2: 0 })).offline).toBe(true);
    expect(check(fleet(2, { 0: 0, 1: 0 })).offline).toBe(false);
    expect(check([]).offline).toBe(false);
  });

  it("is offline when the connectivity probe failed, whatever the companies say", () => {
    expect(check(fleet(10, {}), { probeOk: false })).toEqual({
      offline: true,
      reason: "connectivity probe to WhatsApp failed",
      down: [],
    });
    expect(check(fleet(10, { 3: 0 }), { probeOk: false }).down).toEqual(["c3"]);
    expect(check(fleet(10, {}), { probeOk: null }).offline).toBe(false);
  });

  it("stays offline until most companies reconnected (hysteresis)", () => {
    // Five of ten still down, though they went down far apart: offline only if it already was.
    const spread = fleet(10, { 0: 0, 1: 3, 2: 6, 3: 9, 4: 12 });
    expect(check(spread).offline).toBe(false);
    expect(check(spread, { wasOffline: true })).toEqual({
      offline: true,
      reason: "outage continues: 5 of 10 companies still down",
      down: ["c0", "c1", "c2", "c3", "c4"],
    });
    expect(check(fleet(10, { 0: 0, 1: 3, 2: 6, 3: 9 }), { wasOffline: true }).offline).toBe(false);
    // The probe failing keeps it offline even when every company is back.
    expect(check(fleet(10, {}), { wasOffline: true, probeOk: false }).offline).toBe(true);
  });

  it("ignores terminal states and pairing: those are each company's own problem", () => {
    const companies = fleet(10, {
      0: ["qr_required", 0],
      1: ["replaced", 0],
      2: ["forbidden", 0],
      3: ["outdated_client", 0],
      4: ["pairing", 0],
      5: 0,
      6: 0,
    });
    expect(check(companies).offline).toBe(false);
    expect(check(companies, { wasOffline: true }).offline).toBe(false);
  });

  it("counts a company down that never reported a state but has a downSince", () => {
    expect(check(fleet(6, { 0: [null, 0], 1: [null, 1], 2: ["offline", 1] }))).toMatchObject({
      offline: true,
      down: ["c0", "c1", "c2"],
    });
  });
});
