/** Count alerts show live / stale / reserve and the basis, and "Next:" says what wa-warden will do. */
import { describe, expect, it } from "vitest";
import { cannotHelpText, nextStep, renderAlert } from "../src/alerts/format-alert.js";
import { companyDefaultsSchema } from "../src/config/schema.js";
import { emptyCounts } from "../src/fleet/classify-file.js";

const DEFAULTS = companyDefaultsSchema.parse({});
const counts = (over: Partial<Parameters<typeof nextStep>[2]> = {}) => ({
  total: 1200,
  counted: 190,
  stale: 190,
  heldByMinAge: 0,
  heldUntil: null,
  ...over,
});

describe("count alerts", () => {
  it("show live, stale, the pre-key reserve and the basis", () => {
    const byCategory = { ...emptyCounts(), creds: 1, "pre-key": 812, session: 387 };
    const r = renderAlert(
      "acme",
      { kind: "level", level: "critical", from: "warning" },
      { total: 1200, counted: 190, basis: "stale", stale: 190, live: 1010, reserve: 812, byCategory },
      DEFAULTS,
    );
    expect(r.html).toContain(
      "Files: counted 190 (basis stale); total 1200: live 1010 (812 pre-keys in reserve), stale 190",
    );
    expect(r.payload).toMatchObject({ basis: "stale", stale: 190, live: 1010, reserve: 812 });
    expect(r.text).not.toContain("not enabled in this version");
  });

  it("say the emergency cleanup that will run at fatal, the window at critical, with the command for a human", () => {
    expect(nextStep("fatal", DEFAULTS, counts(), "acme")).toBe(
      "Emergency smart cleanup now (stop, backup, delete ~190 stale files, start), at most once per 1h. A file count alone never resets the session. Reminder every 1h. By hand: `npm run warden -- cleanup acme --dry-run`, then `npm run warden -- cleanup acme --stop`.",
    );
    expect(nextStep("critical", DEFAULTS, counts(), "acme")).toBe(
      "A smart cleanup runs in the next maintenance window 03:00-05:00 UTC (stop, backup, delete ~190 stale files, start). Only fatal cleans outside the window. Reminder every 1h. By hand: `npm run warden -- cleanup acme --dry-run`, then `npm run warden -- cleanup acme --stop`.",
    );
  });

  it("say the maintenance window at warning, and that there is none when it is null", () => {
    expect(nextStep("warning", DEFAULTS, counts({ counted: 160, stale: 160 }), "acme")).toMatch(
      /^A smart cleanup runs in the next maintenance window 03:00-05:00 UTC/,
    );
    const noWindow = { ...DEFAULTS, maintenance: { window: null, timezone: "UTC" } };
    expect(nextStep("warning", noWindow, counts({ counted: 160, stale: 160 }), "acme")).toMatch(
      /^No maintenance window \(maintenance.window null\): no scheduled cleanup\./,
    );
  });

  it("say when a cleanup cannot help, and that nothing is stopped for it", () => {
    const held = Date.UTC(2026, 11, 3, 10, 0);
    const c = counts({ counted: 1190, stale: 4, heldByMinAge: 30, heldUntil: held });
    expect(nextStep("fatal", { ...DEFAULTS, count: { basis: "total" } }, c, "acme")).toBe(
      "Cleanup cannot help now: 1196 live files, 4 stale, 30 more kept by minAge until 2026-12-03 10:00 UTC; wa-warden will not stop the company for it. A file count alone never resets the session. Reminder every 1h. By hand: `npm run warden -- status acme` shows the live files; they turn stale as their sessions age past cleanup.sessionMaxAge.",
    );
    expect(cannotHelpText({ total: 10, stale: 0, heldByMinAge: 0, heldUntil: null })).toBe(
      "cleanup cannot help now: 10 live files, 0 stale, 0 more kept by minAge",
    );
  });

  it("say nothing automatic happens when the ladder is off", () => {
    const off = { ...DEFAULTS, ladder: { ...DEFAULTS.ladder, enabled: false } };
    expect(nextStep("critical", off, counts(), "acme")).toMatch(
      /^The ladder is off for this company \(ladder.enabled false\): wa-warden does nothing automatic\./,
    );
  });
});
