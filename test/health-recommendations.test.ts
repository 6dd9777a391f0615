import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createBackup, verifyBackup } from "../src/actions/backup/backup.js";
import type { Store } from "../src/store/store.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { runCli } from "./helpers/run-cli.js";
import { waitFor } from "./helpers/wait-for.js";

const DAY = 86_400_000;
let fx: FleetFixture;
afterEach(async () => {
  await fx?.cleanup();
});

async function verifiedBackup(store: Store, company: string, at: number): Promise<void> {
  const created = await createBackup({
    company,
    dir: path.join(fx.sessionsDir, company),
    backupsRoot: path.join(fx.home, "backups"),
    reason: "manual",
    now: at,
  });
  const verified = await verifyBackup(created.path);
  store.backupVerifications.record(company, created.name, verified.ok, verified.problems, at);
}

describe("warden health: recommendations with the command to run", () => {
  it("one unbacked-up, one growing and one waiting-for-QR company give those three recommendations", async () => {
    fx = new FleetFixture({ ...COUNT_EVERY_FILE, fleet: { probe: null } });
    let now = Date.now() - 3 * DAY;
    const clock = { now: () => now };
    fx.setFileCount("acme", 20);
    fx.setFileCount("bistro", 130);
    fx.setFileCount("newco", 3);
    const { supervisor, store } = await fx.startSupervisor({ token: null, clock });
    // bistro grows 10 files a day: 160 now, critical (180) in 1–5 days (the fitted rate x0.5..x1.5).
    for (const count of [140, 150, 160]) {
      now += DAY;
      fx.setFileCount("bistro", count);
      await waitFor(() => store.companies.get("bistro")?.total === count, { what: `bistro at ${count}` });
    }
    store.connections.transition(
      { company: "acme", to: "open", code: null, message: null, holder: "w0" },
      now,
    );
    store.connections.transition(
      { company: "bistro", to: "open", code: null, message: null, holder: "w0" },
      now,
    );
    store.connections.transition(
      { company: "newco", to: "qr_required", code: 401, message: "logged out", holder: "w0" },
      now - 3 * 3_600_000,
    );
    // acme's only backup is 9 days old; bistro and newco have fresh verified ones.
    await verifiedBackup(store, "acme", now - 9 * DAY);
    await verifiedBackup(store, "bistro", now - 3_600_000);
    await verifiedBackup(store, "newco", now - 3_600_000);
    await fx.stopSupervisor(supervisor);

    const run = await runCli(["health", "--json"], {
      WARDEN_CONFIG: fx.configFile,
      WARDEN_HOME: fx.home,
      TELEGRAM_BOT_TOKEN: "",
      WARDEN_HTTP_TOKEN: "",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const h = JSON.parse(run.stdout);
    const acme = h.companies.find((c: { id: string }) => c.id === "acme");
    expect(acme.backups).toEqual({ count: 1, newestAt: expect.any(Number), newestVerified: true });
    expect(Math.round((Date.now() - acme.backups.newestAt) / DAY)).toBe(9);
    // Sorted worst first: the QR (critical), then the growing company and the old backup (warnings).
    expect(h.recommendations).toEqual([
      {
        company: "newco",
        severity: "critical",
        text: expect.stringMatching(/^newco: waiting for a QR for 3h/),
        command: "/qr newco in a private chat (or npm run warden -- pair newco --new)",
      },
      {
        company: "bistro",
        severity: "warning",
        text: "bistro: 160 counted files (warning), critical in 1–5 days: cleanup runs in the maintenance window 03:00-05:00 (or npm run warden -- cleanup bistro)",
        command: "npm run warden -- cleanup bistro",
      },
      {
        company: "acme",
        severity: "warning",
        text: expect.stringMatching(/^acme: no verified backup for 9d/),
        command: "npm run warden -- backup acme",
      },
    ]);
  });
});
