/**
 * Fleet correlation end to end: 10 of 12 simulated companies are logged out (401) by "WhatsApp"
 * within seconds. One fleet incident alert instead of ten; the ladder declares nobody QR required
 * while the incident is open; `warden incident close` lets it act again.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { runCli } from "./helpers/run-cli.js";
import { FixtureWorkers } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture;
const envOf = (f: FleetFixture) => ({ WARDEN_CONFIG: f.configFile, WARDEN_HOME: f.home });
const testWorkers = new FixtureWorkers();

beforeEach(() => {
  fx = new FleetFixture({
    workers: { heartbeatEvery: "200ms", controlPollEvery: "50ms", leaseTtl: "5s", deadAfter: "20s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 0 },
    driver: "simulated",
    fleet: { probe: null, checkEvery: "100ms" },
    scan: { reconcileEvery: "500ms", debounce: "20ms" },
  });
});

afterEach(async () => {
  await testWorkers.closeAll();
  await fx.cleanup();
});

describe("fleet correlation", () => {
  it("10 companies logging out within a minute give one fleet alert, and the ladder holds until an operator closes the incident", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `co${String(i).padStart(2, "0")}`);
    for (const id of ids) await createPairedFolder(path.join(fx.sessionsDir, id));
    ids.slice(0, 10).forEach((id, i) => {
      fx.writeCompanyConfig(id, {
        simulation: { disconnectAfter: `${1000 + i * 200}ms`, disconnectCode: 401, recover: false },
      });
    });
    await testWorkers.start(fx);
    const { store } = await fx.startSupervisor({ token: null, ladder: true });

    await waitFor(() => store.liveness.openIncidents().length === 1, {
      what: "the fleet incident",
      timeoutMs: 20_000,
    });
    // Every logout joins it (the later ones silently).
    await waitFor(() => store.liveness.openIncidents()[0]?.companies.length === 10, {
      what: "all ten in it",
    });
    const incident = store.liveness.openIncidents()[0];
    expect([...(incident?.companies ?? [])].sort()).toEqual(ids.slice(0, 10));
    // A few more checks: still one alert, no company told one by one, nobody declared QR required.
    await new Promise((r) => setTimeout(r, 1_000));
    const kinds = store.outbox.list().map((r) => r.kind);
    expect(kinds).toEqual(["fleet-incident"]);
    const fleetAlert = store.outbox.list().find((r) => r.kind === "fleet-incident");
    expect(fleetAlert?.text).toMatch(/WhatsApp-side: \d+ companies logged out within 1 min/);
    for (const id of ids.slice(0, 10)) {
      // Held while waiting for the others, then held by the incident: no other step.
      const steps = store.ladder.steps(id);
      expect(new Set(steps.map((s) => s.step))).toEqual(new Set(["hold:fleet"]));
      expect(steps.at(-1)?.reason).toMatch(new RegExp(`^fleet incident #${incident?.id}: WhatsApp-side`));
    }

    const listed = await runCli(["incident"], envOf(fx));
    expect(listed.stdout).toMatch(new RegExp(`^#${incident?.id} .* OPEN .*co00`, "m"));
    const closed = await runCli(["incident", "close", String(incident?.id)], envOf(fx));
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain("the ladder acts again for 10 companies");
    // Closed: the ladder does what it would have done, once per company, and no new incident opens.
    await waitFor(
      () => ids.slice(0, 10).every((id) => store.ladder.steps(id).some((s) => s.step === "qr_required")),
      {
        what: "QR required after the incident was closed",
        timeoutMs: 20_000,
      },
    );
    expect(store.liveness.incidents(5)).toHaveLength(1);
  }, 60_000);
});
