/**
 * Invariants 16 and 17: one incident is one alert, with the count alerts' severity icons and
 * commands as <code>; wa-warden's own folder swap is not a removal. In-process supervisor, real
 * worker (simulated driver), real SQLite and folders.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { openStore, type Store } from "../src/store/store.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { FixtureWorkers } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture;
const testWorkers = new FixtureWorkers();

beforeEach(() => {
  fx = new FleetFixture({
    ...COUNT_EVERY_FILE,
    workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 0 },
    driver: "simulated",
    ladder: { warnAfter: "10m", reconnectAfter: "10m", budget: { max: 10, window: "1h" } },
    fleet: { probe: null, checkEvery: "50ms" },
    scan: { reconcileEvery: "200ms", debounce: "20ms" },
  });
});

afterEach(async () => {
  await testWorkers.closeAll();
  await fx.cleanup();
});

/** Waits until the supervisor's worker watch has looked at every transition recorded so far. */
async function transitionsSeen(store: Store): Promise<void> {
  const last = store.connections.transitionsAfter(0).at(-1)?.id ?? 0;
  await waitFor(() => store.cursors.get("transitions-alerted") >= last, { what: "transitions alerted" });
}

const rowsOf = (store: Store, company: string) =>
  store.outbox.list().filter((r) => r.company === company && r.kind !== "level");

describe("one incident, one alert", () => {
  it("a logout (401) is told once: fatal icon, the commands as <code>", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    fx.writeCompanyConfig("acme", { simulation: { connect: false, disconnectCode: 401 } });
    await testWorkers.start(fx);
    const { supervisor, store } = await fx.startSupervisor({ token: null, ladder: true });
    await waitFor(() => store.audit.list("acme").some((a) => a.action === "qr-required"), {
      what: "QR required recorded",
      timeoutMs: 10_000,
    });
    // The executor's own transition to qr_required is looked at too.
    await supervisor.checkWorkers();
    await transitionsSeen(store);
    const rows = rowsOf(store, "acme");
    expect(rows.map((r) => r.kind)).toHaveLength(1);
    const [alert] = rows;
    expect(alert?.html).toContain("💀");
    expect(alert?.html).toContain("<code>npm run warden -- pair acme --new</code>");
    expect(alert?.html).not.toContain("`");
  });

  it("a 440 is told once, with the critical icon", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    fx.writeCompanyConfig("acme", {
      simulation: { disconnectAfter: "50ms", disconnectCode: 440, recover: false },
    });
    await testWorkers.start(fx);
    const { store } = await fx.startSupervisor({ token: null, ladder: true });
    await waitFor(() => store.ladder.steps("acme").some((s) => s.step === "alert:human_needed"), {
      what: "the ladder's human_needed",
      timeoutMs: 10_000,
    });
    await transitionsSeen(store);
    const rows = rowsOf(store, "acme");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.html).toContain("🔴");
    expect(rows[0]?.html).toContain("<code>npm run warden -- start acme</code>");
  });

  it("three rejected config edits page once, and the fix says config OK", async () => {
    fx.setFileCount("acme", 3);
    const { supervisor, store } = await fx.startSupervisor({ token: null });
    for (const i of [1, 2, 3]) supervisor.reportConfigError(`edit ${i}: thresholds.warning must be a number`);
    expect(store.outbox.list().filter((r) => r.kind === "config-invalid")).toHaveLength(1);
    expect(store.events.list().filter((e) => e.kind === "config-invalid")).toHaveLength(3);
    supervisor.applyConfig(loadConfig(fx.configFile));
    const ok = store.outbox.list().filter((r) => r.kind === "config-ok");
    expect(ok).toHaveLength(1);
    expect(ok[0]?.text).toContain("Config OK again");
    // The next broken edit is a new incident.
    supervisor.reportConfigError("edit 4");
    expect(store.outbox.list().filter((r) => r.kind === "config-invalid")).toHaveLength(2);
  });

  it("a count alert says when the company is also down (past ladder.warnAfter, 10m)", async () => {
    fx.setFileCount("acme", 155);
    const pre = openStore(path.join(fx.home, "warden.db"));
    pre.connections.transition(
      { company: "acme", to: "reconnecting", code: 428, message: "closed", holder: null },
      Date.now() - 15 * 60_000,
    );
    pre.close();
    const { store } = await fx.startSupervisor({ token: null });
    await waitFor(() => store.outbox.list().some((r) => r.level === "warning"), { what: "warning" });
    const warning = store.outbox.list().find((r) => r.level === "warning");
    expect(warning?.text).toMatch(/Also disconnected: reconnecting for 15m/);
  });
});

describe("the fatal alert", () => {
  it("names the exact commands, as <code>", async () => {
    fx.setFileCount("acme", 205);
    const { store } = await fx.startSupervisor({ token: null });
    await waitFor(() => store.outbox.list().some((r) => r.level === "fatal"), { what: "fatal" });
    const fatal = store.outbox.list().find((r) => r.level === "fatal");
    // 205 fresh files are live: the alert does not send a human to a cleanup that deletes nothing.
    expect(fatal?.html).toContain("<code>npm run warden -- status acme</code>");
    expect(fatal?.html).not.toContain("--dry-run");
  });
});

describe("wa-warden's own folder swap", () => {
  it("is not a removal, and its .warden-tmp-* folders are never companies (trap 4)", async () => {
    fx.setFileCount("acme", 3);
    const { supervisor, store } = await fx.startSupervisor({ token: null, ladder: true });
    // The instant between the two renames of a restore: the folder under a temp name, the journal written.
    const aside = path.join(fx.sessionsDir, ".warden-tmp-replaced-acme-1");
    mkdirSync(path.join(fx.home, "restores"), { recursive: true });
    writeFileSync(path.join(fx.home, "restores", "acme.json"), "{}");
    renameSync(path.join(fx.sessionsDir, "acme"), aside);
    await supervisor.fleet.fullScan();
    renameSync(aside, path.join(fx.sessionsDir, "acme"));
    rmSync(path.join(fx.home, "restores", "acme.json"));
    await supervisor.fleet.fullScan();
    expect(store.outbox.list().filter((r) => r.kind === "company-removed")).toHaveLength(0);
    expect(store.companies.get("acme")?.removedAt ?? null).toBeNull();
    const logged = fx.logLines.map((l) => String(l.msg));
    expect(logged.filter((m) => m.includes(".warden-tmp-"))).toEqual([]);
  });
});
