import { describe, expect, it } from "vitest";
import { incidentRole, incidentStep, isFleetNotice } from "../src/alerts/incidents.js";
import { nextWallClock, silenceEndsAt } from "../src/alerts/silence-window.js";

const open = (
  over: Partial<{ id: number; severity: string; episode: number | null; ackedAt: number | null }>,
) => ({
  id: 7,
  severity: "critical",
  episode: null,
  ackedAt: null,
  ...over,
});

describe("what an incident is", () => {
  it("maps alert kinds to families; the fleet's own notices are no incident", () => {
    expect(incidentRole("level")).toEqual({ family: "files", role: "open" });
    expect(incidentRole("reminder")).toEqual({ family: "files", role: "reminder" });
    expect(incidentRole("resolved")).toEqual({ family: "files", role: "resolve" });
    expect(incidentRole("connection-qr_required")).toEqual({ family: "down", role: "open" });
    expect(incidentRole("ladder-human_needed")).toEqual({ family: "down", role: "open" });
    expect(incidentRole("signals-raised")).toEqual({ family: "signals", role: "open" });
    for (const kind of [
      "worker-dead",
      "outage",
      "disk-ok",
      "config-invalid",
      "company-removed",
      "creds-corrupt",
    ])
      expect(incidentRole(kind)).toBeNull();
    // A scanner failure names a company but is the fleet's own: never silenced.
    expect(isFleetNotice("scan-failed")).toBe(true);
    expect(isFleetNotice("level")).toBe(false);
  });

  it("a higher level opens a new incident; the same or a lower one joins", () => {
    expect(incidentStep("open", "files", open({}), "fatal", null)).toEqual({ kind: "open", close: 7 });
    expect(incidentStep("open", "files", open({}), "critical", null)).toEqual({ kind: "join", id: 7 });
    expect(incidentStep("open", "files", undefined, "monitor", null)).toEqual({ kind: "open", close: null });
  });

  it("an acked incident's reminder is dropped; an unacked one's joins", () => {
    expect(incidentStep("reminder", "files", open({ ackedAt: 1 }), "critical", null)).toEqual({
      kind: "drop",
      id: 7,
    });
    expect(incidentStep("reminder", "files", open({}), "critical", null)).toEqual({ kind: "join", id: 7 });
  });

  it("a down incident is one episode: the same episode joins, a new one opens", () => {
    expect(incidentStep("open", "down", open({ episode: 100 }), "fatal", 100)).toEqual({
      kind: "join",
      id: 7,
    });
    expect(incidentStep("open", "down", open({ episode: 100 }), "fatal", 200)).toEqual({
      kind: "open",
      close: 7,
    });
  });

  it("resolved closes the open incident, or does nothing", () => {
    expect(incidentStep("resolve", "files", open({}), "ok", null)).toEqual({ kind: "resolve", id: 7 });
    expect(incidentStep("resolve", "files", undefined, "ok", null)).toEqual({ kind: "none" });
  });
});

describe("when a silence ends", () => {
  const now = Date.parse("2026-12-02T10:30:00Z");
  it("--for a duration, --until an ISO time or the next HH:MM in the zone", () => {
    expect(silenceEndsAt({ for: "2h" }, now, "UTC")).toBe(now + 7_200_000);
    expect(silenceEndsAt({ until: "2026-12-02T18:00:00Z" }, now, "UTC")).toBe(
      Date.parse("2026-12-02T18:00:00Z"),
    );
    expect(silenceEndsAt({ until: "09:00" }, now, "UTC")).toBe(Date.parse("2026-12-03T09:00:00Z"));
    expect(nextWallClock(now, "14:00", "Europe/Berlin")).toBe(Date.parse("2026-12-02T13:00:00Z"));
    expect(nextWallClock(Date.parse("2026-07-01T10:00:00Z"), "14:00", "Europe/Berlin")).toBe(
      Date.parse("2026-07-01T12:00:00Z"),
    );
  });

  it("bad input is a coded usage error naming the option; nothing longer than 30 days", () => {
    expect(() => silenceEndsAt({}, now, "UTC")).toThrow(/exactly one of --for/);
    expect(() => silenceEndsAt({ for: "soon" }, now, "UTC")).toThrow(/--for takes a duration/);
    expect(() => silenceEndsAt({ until: "yesterday" }, now, "UTC")).toThrow(/--until takes/);
    expect(() => silenceEndsAt({ until: "2020-01-01T00:00:00Z" }, now, "UTC")).toThrow(/in the past/);
    expect(() => silenceEndsAt({ for: "40d" }, now, "UTC")).toThrow(/at most 30 days/);
    let caught: unknown;
    try {
      silenceEndsAt({ for: "x" }, now, "UTC");
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: "WARDEN_ERR_USAGE" });
  });
});
