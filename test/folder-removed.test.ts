/**
 * A removed company folder stays removed: a session never creates a company folder. The folder is
 * deleted at several moments of its worker's reconnect cycle (a company closing 428 again and
 * again, reconnects every 50-100 ms); each time it stays gone, the lease is released and the
 * supervisor sends one removal alert.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { runCli } from "./helpers/run-cli.js";
import { FixtureWorkers } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

const workers = new FixtureWorkers();
let fx: FleetFixture | undefined;
afterEach(async () => {
  await workers.closeAll();
  await fx?.cleanup();
});

describe("a removed company folder stays removed", () => {
  it.each([0, 35, 80, 140])(
    "deleted %i ms into the reconnect cycle: gone for good, lease released, one removal alert",
    async (delay) => {
      fx = new FleetFixture({
        workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
        simulation: { connectAfter: "20ms", initialPreKeys: 0, connect: false, disconnectCode: 428 },
        driver: "simulated",
        fleet: { probe: null, checkEvery: "50ms" },
        scan: { reconcileEvery: "100ms", debounce: "20ms" },
      });
      const dir = path.join(fx.sessionsDir, "acme");
      await createPairedFolder(dir);
      const { store } = await workers.start(fx);
      const { store: sup } = await fx.startSupervisor({ token: null });
      await waitFor(
        () => (store.connections.transitionsOf("acme").filter((t) => t.code === 428).length ?? 0) >= 2,
        {
          what: "acme in its reconnect loop",
        },
      );
      await new Promise((resolve) => setTimeout(resolve, delay)); // a moment of the cycle, not a sync
      rmSync(dir, { recursive: true, force: true });
      await waitFor(() => store.leases.get("acme") === undefined, {
        what: "the lease released",
      });
      await waitFor(() => sup.outbox.list().some((r) => r.kind === "company-removed"), {
        what: "the removal alert",
      });
      // Several reconnect cycles later, the folder is still gone.
      const at = store.connections.transitionsOf("acme").length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(existsSync(dir)).toBe(false);
      expect(store.connections.transitionsOf("acme").length).toBeLessThanOrEqual(at + 1);
      expect(sup.outbox.list().filter((r) => r.kind === "company-removed")).toHaveLength(1);
      expect(sup.outbox.list().find((r) => r.kind === "company-removed")?.text).toContain(
        "npm run warden -- remove acme",
      );
    },
  );
});

describe("warden remove", () => {
  it("refuses a connected company; with --stop: verified backup, folder moved to WARDEN_HOME/removed, audited, stays gone", async () => {
    fx = new FleetFixture({
      workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
      simulation: { connectAfter: "20ms", initialPreKeys: 0 },
      driver: "simulated",
      fleet: { probe: null, checkEvery: "50ms" },
      scan: { reconcileEvery: "100ms", debounce: "20ms" },
    });
    const dir = path.join(fx.sessionsDir, "acme");
    await createPairedFolder(dir);
    fx.setFileCount("acme", 12);
    const files = readdirSync(dir).sort();
    const { store } = await workers.start(fx);
    const { store: sup } = await fx.startSupervisor({ token: null });
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme connected" });
    const env = { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home };

    const refused = await runCli(["remove", "acme"], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("acme");
    expect(existsSync(dir)).toBe(true);

    const done = await runCli(["remove", "acme", "--stop", "--json"], env);
    expect(done.code, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout) as { movedTo: string; backup: string };
    expect(result.movedTo.startsWith(path.join(fx.home, "removed", "acme-"))).toBe(true);
    expect(readdirSync(result.movedTo).sort()).toEqual(files);
    expect(existsSync(dir)).toBe(false);
    const backups = await listBackups(path.join(fx.home, "backups"), "acme");
    expect(backups.map((b) => b.reason)).toEqual(["pre-remove"]);
    expect((await verifyBackup(result.backup)).ok).toBe(true);
    expect(sup.audit.list("acme").map((a) => `${a.action}:${a.ok}`)).toEqual(["remove:true"]);
    await waitFor(() => sup.outbox.list().some((r) => r.kind === "company-removed"), {
      what: "the removal notice",
    });
    const notice = sup.outbox.list().filter((r) => r.kind === "company-removed");
    expect(notice).toHaveLength(1);
    expect(notice[0]?.text).toContain("removed by cli:");
    expect(store.leases.get("acme")).toBeUndefined();
    await workers.closeAll();
    await workers.start(fx); // a restarted worker does not bring it back either
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(dir)).toBe(false);
  });
});
