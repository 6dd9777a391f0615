/**
 * The recovery ladder end to end: an in-process supervisor (real scanner, real SQLite, real
 * executors) and a real worker with the simulated driver. Ladder durations are shortened in the
 * config so a real clock walks them; the minute-by-minute walk with a fake clock is in
 * ladder-decide.test.ts.
 */

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, utimesSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { prepareNewPairing } from "../src/actions/pairing/new-pairing.js";
import { runControl } from "../src/cli/control.js";
import { openStore } from "../src/store/store.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { FixtureWorkers } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture;
const testWorkers = new FixtureWorkers();

const FAST_LADDER = {
  warnAfter: "100ms",
  reconnectAfter: "200ms",
  reconnectAttempts: 2,
  reconnectBackoff: "150ms",
  settleFor: "400ms",
  budget: { max: 10, window: "1h" },
  stableAfter: "300ms",
  maxBackoff: "1s",
};

/** What a worker records during a Bad MAC storm: 30 failures this minute (signals.alertAt is 20 in 10m). */
function seedDecryptStorm(): void {
  const seed = openStore(path.join(fx.home, "warden.db"));
  seed.signals.add("acme", Math.floor(Date.now() / 60_000) * 60_000, [
    { kind: "decrypt-failure", reason: "Bad MAC", count: 30 },
  ]);
  seed.close();
}

beforeEach(() => {
  fx = new FleetFixture({
    workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 0 },
    driver: "simulated",
    ladder: FAST_LADDER,
    fleet: { probe: null, checkEvery: "50ms" },
    scan: { reconcileEvery: "200ms", debounce: "20ms" },
  });
});

afterEach(async () => {
  await testWorkers.closeAll();
  await fx.cleanup();
});

/** A paired folder with `sessions` session files last touched 30 days ago. */
async function pairedWithOldSessions(company: string, sessions: number): Promise<string> {
  const dir = path.join(fx.sessionsDir, company);
  await createPairedFolder(dir);
  fx.setFileCount(company, sessions);
  const old = (Date.now() - 30 * 86_400_000) / 1000;
  for (const name of readdirSync(dir))
    if (name.startsWith("session-")) utimesSync(path.join(dir, name), old, old);
  return dir;
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("recovery ladder (supervisor + real worker)", () => {
  it("a company down on 500: reconnects, then one human-needed alert; nothing deleted, never QR required", async () => {
    const dir = await pairedWithOldSessions("acme", 165);
    fx.writeCompanyConfig("acme", { simulation: { connect: false, disconnectCode: 500 } });
    const before = readdirSync(dir).sort();
    const credsBefore = sha(path.join(dir, "creds.json"));
    await testWorkers.start(fx);
    const { store, supervisor } = await fx.startSupervisor({ token: null, ladder: true });
    const stepNames = () => store.ladder.steps("acme").map((s) => s.step);
    await waitFor(() => stepNames().filter((s) => s === "reconnect").length >= 4, {
      what: "the ladder past its human-needed alert, still reconnecting",
      timeoutMs: 20_000,
    });
    await supervisor.ladder?.idle();
    expect(stepNames().slice(0, 4)).toEqual(["alert:down", "reconnect", "reconnect", "alert:human_needed"]);
    expect(
      stepNames()
        .slice(4)
        .every((s) => s === "reconnect"),
    ).toBe(true);
    const human = store.ladder.steps("acme").find((s) => s.step === "alert:human_needed");
    expect(human?.reason).toMatch(/Close codes seen: 500 bad session .* x\d+/);
    expect(human?.reason).toContain("500 closes are not evidence of broken keys");
    expect(human?.reason).not.toMatch(/--new|scan/);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(sha(path.join(dir, "creds.json"))).toBe(credsBefore);
    expect(store.audit.list("acme")).toEqual([]);
    expect(store.connections.transitionsOf("acme").map((t) => t.to)).not.toContain("qr_required");
    expect(store.outbox.list().filter((r) => r.kind === "ladder-human_needed")).toHaveLength(1);
  });

  it("a company down on 428 without key-state evidence: one human-needed alert naming 428, no cleanup, never a reset", async () => {
    const dir = await pairedWithOldSessions("acme", 165);
    fx.writeCompanyConfig("acme", { simulation: { connect: false, disconnectCode: 428 } });
    const credsBefore = sha(path.join(dir, "creds.json"));
    await testWorkers.start(fx);
    const { store, supervisor } = await fx.startSupervisor({ token: null, ladder: true });
    const stepNames = () => store.ladder.steps("acme").map((s) => s.step);
    await waitFor(() => stepNames().includes("alert:human_needed"), {
      what: "the human-needed alert",
      timeoutMs: 20_000,
    });
    await supervisor.ladder?.idle();
    expect(stepNames().slice(0, 4)).toEqual(["alert:down", "reconnect", "reconnect", "alert:human_needed"]);
    const human = store.ladder.steps("acme").find((s) => s.step === "alert:human_needed");
    expect(human?.reason).toMatch(/Close codes seen: 428 connection closed x\d+/);
    expect(human?.reason).toContain("no file deleted");
    expect(store.audit.list("acme")).toEqual([]);
    expect(sha(path.join(dir, "creds.json"))).toBe(credsBefore);
    for (let i = 0; i < 5; i++) supervisor.checkLadder();
    await supervisor.ladder?.idle();
    expect(stepNames().filter((s) => s !== "reconnect")).toHaveLength(2);
  });

  it("a company down on 428 with a decrypt-failure storm and ladder.autoReset is allowed the reset, never a QR", async () => {
    const dir = await pairedWithOldSessions("acme", 165);
    fx.writeCompanyConfig("acme", {
      simulation: { connect: false, disconnectCode: 428 },
      ladder: { autoReset: true },
    });
    const credsBefore = sha(path.join(dir, "creds.json"));
    await testWorkers.start(fx);
    seedDecryptStorm();
    const { store } = await fx.startSupervisor({ token: null, ladder: true });
    const stepNames = () => store.ladder.steps("acme").map((s) => s.step);
    await waitFor(() => stepNames().includes("cleanup:reset"), {
      what: "the ladder reaching the reset",
      timeoutMs: 20_000,
    });
    expect(stepNames().slice(0, 5)).toEqual([
      "alert:down",
      "reconnect",
      "reconnect",
      "cleanup:smart",
      "cleanup:reset",
    ]);
    expect(stepNames()).not.toContain("qr_required");
    expect(sha(path.join(dir, "creds.json"))).toBe(credsBefore);
  });

  it("401 from WhatsApp: QR required at once, backup first, nothing deleted", async () => {
    // 190 files: over critical, but a 401 is not a file problem and nothing may be deleted.
    const dir = await pairedWithOldSessions("acme", 190);
    fx.writeCompanyConfig("acme", { simulation: { connect: false, disconnectCode: 401 } });
    const before = readdirSync(dir).sort();
    await testWorkers.start(fx);
    const { store } = await fx.startSupervisor({ token: null, ladder: true });
    await waitFor(() => store.audit.list("acme").some((a) => a.action === "qr-required"), {
      what: "QR required recorded",
      timeoutMs: 10_000,
    });
    expect(store.ladder.steps("acme").map((s) => s.step)).toEqual(["qr_required", "alert:qr_required"]);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect((await listBackups(path.join(fx.home, "backups"), "acme")).map((b) => b.reason)).toEqual([
      "qr-required",
    ]);
    expect(store.connections.get("acme")?.state).toBe("qr_required");
    expect(store.outbox.list().some((r) => r.kind === "ladder-qr_required" && r.text.includes("acme"))).toBe(
      true,
    );
  });

  it("a network outage holds cleanup (one grouped alert), reconnects go on, and the ladder resumes when it ends", async () => {
    await pairedWithOldSessions("acme", 165);
    fx.writeCompanyConfig("acme", { simulation: { connect: false, disconnectCode: 408 } });
    fx.writeConfig({
      workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
      simulation: { connectAfter: "20ms", initialPreKeys: 0 },
      driver: "simulated",
      ladder: FAST_LADDER,
      fleet: { probe: { host: "127.0.0.1", port: 9, every: "50ms", timeout: "1s" }, checkEvery: "50ms" },
      scan: { reconcileEvery: "200ms", debounce: "20ms" },
    });
    let online = false;
    await testWorkers.start(fx);
    seedDecryptStorm(); // the evidence that opens a cleanup of a down company
    // The injected probe stands for WhatsApp's reachability (fleet.probe sets its schedule).
    const { store } = await fx.startSupervisor({ token: null, ladder: true, probe: async () => online });
    const steps = () => store.ladder.steps("acme").map((s) => s.step);
    await waitFor(() => steps().includes("hold_outage"), {
      what: "cleanup held for the outage",
      timeoutMs: 10_000,
    });
    expect(steps()).not.toContain("cleanup:smart");
    expect(steps().filter((s) => s === "reconnect")).toHaveLength(2);
    // No per-company warning during the outage; one fleet alert.
    const kinds = () => store.outbox.list().map((r) => r.kind);
    expect(kinds().filter((k) => k === "outage")).toHaveLength(1);
    expect(kinds()).not.toContain("ladder-down");
    expect(store.ladder.currentOutage()?.reason).toContain("probe");
    expect(store.audit.list("acme")).toEqual([]);

    online = true;
    await waitFor(() => steps().includes("cleanup:smart"), {
      what: "cleanup after the outage",
      timeoutMs: 10_000,
    });
    expect(kinds().filter((k) => k === "outage-resolved")).toHaveLength(1);
    await waitFor(() => store.audit.list("acme").some((a) => a.action === "cleanup"), {
      what: "the held cleanup done",
    });
    expect(store.ladder.currentOutage()).toBeUndefined();
  });

  it("a connected company at fatal gets one emergency cleanup (stop, backup, clean, start) and reconnects", async () => {
    const dir = await pairedWithOldSessions("acme", 205);
    const credsBefore = sha(path.join(dir, "creds.json"));
    await testWorkers.start(fx);
    const { store } = await fx.startSupervisor({ token: null, ladder: true });
    await waitFor(() => store.audit.list("acme").some((a) => a.action === "cleanup"), {
      what: "emergency cleanup",
      timeoutMs: 10_000,
    });
    await waitFor(
      () =>
        store.connections.get("acme")?.state === "open" && store.leases.get("acme")?.holder === "worker/0/1",
      {
        what: "acme connected again by the worker",
        timeoutMs: 10_000,
      },
    );
    expect(store.ladder.steps("acme").map((s) => s.step)).toEqual(["cleanup:smart"]);
    expect(store.ladder.steps("acme")[0]?.reason).toContain("fatal");
    expect(readdirSync(dir).filter((n) => n.startsWith("session-"))).toEqual([]);
    expect(sha(path.join(dir, "creds.json"))).toBe(credsBefore);
    const transitions = store.connections.transitionsOf("acme").map((t) => t.to);
    expect(transitions).toEqual(["connecting", "open", "stopped", "connecting", "open"]);
  });

  it("pair --new: a verified backup, the paired folder moved aside, snapshots retired, then a fresh pairing", async () => {
    const dir = await pairedWithOldSessions("acme", 20);
    fx.writeCompanyConfig("acme", { simulation: { pairAfter: "100ms" } });
    const oldCreds = readFileSync(path.join(dir, "creds.json"));
    const { config, store } = await testWorkers.start(fx);
    await waitFor(
      () => store.connections.get("acme")?.state === "open" && store.credsSnapshots.files("acme").length > 0,
      {
        what: "acme connected and snapshotted",
      },
    );
    // Connected: refused without --stop.
    const actions = createActionContext({ store, clock: { now: () => Date.now() }, config, home: fx.home });
    const options = { company: "acme", actor: "cli:test" };
    await expect(prepareNewPairing(actions, options)).rejects.toThrow(/acme is connected/);
    expect(readFileSync(path.join(dir, "creds.json")).equals(oldCreds)).toBe(true);

    const prepared = await prepareNewPairing(actions, { ...options, stopFirst: true });
    expect(readdirSync(dir)).toEqual([]);
    expect(readFileSync(path.join(prepared.movedAside, "creds.json")).equals(oldCreds)).toBe(true);
    expect(prepared.movedAside.startsWith(path.join(fx.home, "replaced", "acme"))).toBe(true);
    expect((await verifyBackup(prepared.backup)).manifest?.files.some((f) => f.name === "creds.json")).toBe(
      true,
    );
    expect(prepared.snapshotsRetired).toBeGreaterThan(0);
    expect(store.credsSnapshots.files("acme")).toEqual([]);
    expect(store.audit.list("acme").map((a) => `${a.action}:${a.ok}`)).toEqual(["new-pairing:true"]);

    const done = await runControl(config, store, "acme", "pair", {}, 10_000, "cli:test");
    expect(done.ok).toBe(true);
    await waitFor(
      () => store.connections.get("acme")?.state === "open" && readdirSync(dir).includes("creds.json"),
      {
        what: "acme paired again",
      },
    );
    const fresh = JSON.parse(readFileSync(path.join(dir, "creds.json"), "utf8"));
    const old = JSON.parse(oldCreds.toString("utf8"));
    expect(fresh.registered).toBe(true);
    expect(fresh.noiseKey.public).not.toEqual(old.noiseKey.public);
  });
});
