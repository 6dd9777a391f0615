/**
 * Invariant 15: SQLITE_FULL while the supervisor runs. Before, the write threw out of the scanner
 * callback: an uncaught error and a raw stack outside the structured log, the supervisor dead. Now
 * the failure is logged with its step, alerted through the notifiers directly, retried, and once
 * space returns the counts and the alert that could not be written are there.
 * WARDEN_HOME is a 3 MB tmpfs (mounting needs root: a prerequisite, see helpers/prerequisite.ts),
 * filled with a filler file.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { mountTmpfs } from "./helpers/prerequisite.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture | undefined;
const unmounts: (() => void)[] = [];
afterEach(async () => {
  // Stops the supervisor; removing the still mounted fx.home fails with EBUSY (what it held is
  // gone), so the rest of the temp installation is removed once it is unmounted.
  await fx?.cleanup().catch(() => undefined);
  for (const unmount of unmounts.splice(0)) unmount();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
  fx = undefined;
});

/** Writes until ENOSPC; returns the filler's path. */
function fillDisk(dir: string): string {
  const file = `${dir}/filler`;
  const fd = openSync(file, "w");
  try {
    for (const size of [256 * 1024, 4096, 512]) {
      try {
        for (;;) writeSync(fd, Buffer.alloc(size));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

describe("a full disk under the supervisor", () => {
  it("is logged, alerted, retried, and nothing is lost once space returns", async (ctx) => {
    const f = new FleetFixture({ ...COUNT_EVERY_FILE });
    fx = f;
    mkdirSync(f.home, { recursive: true });
    mountTmpfs(ctx, f.home, "3m", (fn) => unmounts.push(fn));
    for (const id of ["acme", "bistro", "cafe"]) f.setFileCount(id, 10);
    const { supervisor, store } = await f.startSupervisor({ token: null, watch: false });
    const filler = fillDisk(f.home);

    f.setFileCount("acme", 130); // monitor level: an alert that must not be lost
    await supervisor.fleet.fullScan(); // before the fix: rejects with SQLITE_FULL
    const line = await waitFor(() => f.logLines.find((l) => l.kind === "disk-full"), {
      what: "disk-full log line",
    });
    expect(String(line.msg)).toContain("warden.db cannot be written while saving scan results (SQLITE_FULL)");
    await waitFor(() => f.logLines.some((l) => String(l.msg).startsWith("wa-warden: disk full")), {
      what: "the direct alert through the log notifier",
    });
    expect(store.alertState.get("acme")?.level ?? "ok").toBe("ok"); // rolled back, not half-written

    rmSync(filler);
    // The guard's own retry (5 s) rescans and writes what was lost.
    await waitFor(() => store.alertState.get("acme")?.level === "monitor", {
      timeoutMs: 30_000,
      what: "acme's monitor level written after space returned",
    });
    expect(store.companies.get("acme")?.total).toBe(130);
    await waitFor(() => store.outbox.list().some((r) => r.company === "acme" && r.level === "monitor"), {
      what: "the monitor alert in the outbox",
    });
    expect(store.outbox.list().some((r) => r.kind === "disk-ok")).toBe(true);
  }, 60_000);
});
