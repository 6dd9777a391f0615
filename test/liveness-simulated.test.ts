/**
 * Liveness end to end with the simulated driver: an in-process supervisor running the ladder (real
 * SQLite, real executors) and a real worker. The scenario keys are the issue's own figures:
 * inbound every 2 s, deaf after 20 s, liveness.silentAfter 10 s, a timelock after 5 s; the real
 * clock walks them (about 35 s).
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectStatus } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { companyViews } from "../src/http/fleet-view.js";
import { createFleetMetrics } from "../src/http/metrics.js";
import { renderFleetPage } from "../src/http/views/fleet-page.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { parsePrometheusText, sampleValue } from "./helpers/prom-text.js";
import { FixtureWorkers } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture;
const testWorkers = new FixtureWorkers();

beforeEach(() => {
  fx = new FleetFixture({
    workers: { heartbeatEvery: "200ms", controlPollEvery: "50ms", leaseTtl: "5s", deadAfter: "20s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 0 },
    driver: "simulated",
    // Four companies cannot make a fleet incident with min 5: the deaf one is not held to correlate.
    fleet: { probe: null, checkEvery: "100ms", correlate: { min: 5 } },
    scan: { reconcileEvery: "500ms", debounce: "20ms" },
    liveness: { silentAfter: "10s", settleFor: "30s" },
  });
});

afterEach(async () => {
  await testWorkers.closeAll();
  await fx.cleanup();
});

describe("liveness with the simulated driver", () => {
  it("deaf after 20 s: one alert and a reconnect, then hearing again; traffic never deaf; no traffic quiet; a timelock restricted with one alert and no ladder action", async () => {
    for (const c of ["deafco", "busy", "silent", "locked"])
      await createPairedFolder(path.join(fx.sessionsDir, c));
    fx.writeCompanyConfig("deafco", { simulation: { inboundEvery: "2s", deafAfter: "20s" } });
    fx.writeCompanyConfig("busy", { simulation: { inboundEvery: "2s" } });
    fx.writeCompanyConfig("locked", {
      simulation: { inboundEvery: "2s", restrictAfter: "5s", restrictFor: "1h" },
    });
    await testWorkers.start(fx);
    const { store } = await fx.startSupervisor({ token: null, ladder: true });
    const steps = (c: string) => store.ladder.steps(c).map((s) => s.step);

    await waitFor(() => steps("locked").includes("alert:restricted"), {
      what: "the restricted alert",
      timeoutMs: 20_000,
    });
    await waitFor(() => steps("deafco").includes("reconnect:deaf"), {
      what: "the deaf reconnect",
      timeoutMs: 45_000,
    });

    const deaf = store.ladder.steps("deafco");
    const alert = deaf.find((s) => s.step === "alert:deaf");
    // Nothing learned before this hour: no "usual gap" to name, the threshold is silentAfter (10 s).
    expect(alert?.reason).toMatch(
      /^deafco: open but deaf: no incoming messages for 1\d s; WhatsApp answers pings \(\d+ ms\) but delivers no incoming messages\.$/,
    );
    const config = loadConfig(fx.configFile);
    const byId = async () => new Map((await collectStatus(config, store, Date.now())).map((c) => [c.id, c]));

    await waitFor(() => steps("deafco").includes("alert:deaf_resolved"), {
      what: "traffic back after the reconnect",
      timeoutMs: 20_000,
    });
    expect(steps("deafco").filter((s) => s === "alert:deaf")).toHaveLength(1);
    expect(store.ladder.steps("deafco").find((s) => s.step === "reconnect:deaf")?.result).toMatch(
      /^reconnect requested/,
    );

    const status = await byId();
    expect(status.get("busy")?.liveness?.state).toBe("ok");
    expect(status.get("silent")?.liveness?.state).toBe("quiet");
    expect(status.get("locked")?.liveness).toMatchObject({
      state: "restricted",
      reason: "reachout timelock: new chats blocked by WhatsApp",
    });
    expect(status.get("locked")?.liveness?.restrictedUntil).toBeGreaterThan(Date.now());

    // The same on /metrics and the dashboard.
    const source = { store, config: () => config, now: () => Date.now() };
    const m = parsePrometheusText(await createFleetMetrics(source).render());
    expect(sampleValue(m, "warden_company_liveness", { company: "locked", state: "restricted" })).toBe(1);
    expect(sampleValue(m, "warden_company_liveness", { company: "busy", state: "ok" })).toBe(1);
    expect(sampleValue(m, "warden_company_liveness", { company: "silent", state: "quiet" })).toBe(1);
    // The worker rewrites a company's row once a minute (and at once on a change of state).
    expect(sampleValue(m, "warden_company_last_inbound_seconds", { company: "busy" })).toBeLessThan(70);
    expect(sampleValue(m, "warden_company_last_inbound_seconds", { company: "silent" })).toBeUndefined();
    const dashboard = renderFleetPage(companyViews(source), Date.now());
    expect(dashboard).toMatch(
      /<td class="liveness-restricted" title="reachout timelock: new chats blocked by WhatsApp">restricted until \d\d:\d\d UTC<\/td>/,
    );

    // Traffic never deaf, no traffic never deaf; the restricted company: one alert, no ladder action.
    expect(steps("busy")).toEqual([]);
    expect(steps("silent")).toEqual([]);
    expect(steps("locked")).toEqual(["alert:restricted"]);
    const kinds = store.outbox.list().map((r) => r.kind);
    expect(kinds.filter((k) => k === "liveness-deaf")).toHaveLength(1);
    expect(kinds.filter((k) => k === "liveness-restricted")).toHaveLength(1);
    // Counters reached SQLite (the running minute is written when the worker closes).
    await testWorkers.closeAll();
    expect(store.liveness.window("busy", 0, Date.now()).inbound).toBeGreaterThan(5);
  }, 90_000);
});
