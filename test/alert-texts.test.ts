/**
 * Alert texts outside the ladder say what is true: a company is "also disconnected" only on the
 * ladder's scale (warnAfter) and never for wa-warden's own hold; the ladder's "cleanup cannot help"
 * is not sent 15 s after the level alert that said the same; an outage Telegram was told about is
 * not told again at every start; a ladder step's "alert queued" shows whether it was delivered.
 */
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { RenderedAlert } from "../src/alerts/format-alert.js";
import { loadConfig } from "../src/config/load.js";
import { currentStepResult } from "../src/http/fleet-view.js";
import { openStore } from "../src/store/store.js";
import { createAlertQueue } from "../src/supervisor/alert-queue.js";
import { tellOutageInProgress } from "../src/supervisor/start-tasks.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { tempDir } from "./helpers/temp-dir.js";
import { waitFor } from "./helpers/wait-for.js";

const MIN = 60_000;

function setup(now: () => number) {
  const fx = new FleetFixture({ alerts: { remindEvery: "1h" }, telegram: { chatIds: [-1001] } });
  const store = openStore(path.join(tempDir(), "warden.db"));
  const config = loadConfig(fx.configFile);
  const alerts = createAlertQueue({
    store,
    notifiers: new Map([["telegram", { name: "telegram", send: async () => undefined }]]),
    clock: { now },
    logger: pino({ level: "silent" }),
    config: () => config,
  });
  return { fx, store, alerts };
}

describe("alert texts", () => {
  it("'Also disconnected' only after warnAfter, and never during our own hold", async () => {
    const fx = new FleetFixture({ ...COUNT_EVERY_FILE, ladder: { warnAfter: "10m" } });
    try {
      fx.setFileCount("quick", 3);
      fx.setFileCount("long", 3);
      const { store } = await fx.startSupervisor({ token: null });
      const t = (company: string, to: string, at: number) =>
        store.connections.transition({ company, to, code: null, message: null, holder: "w0" }, at);
      t("quick", "connecting", Date.now() - 139); // a start: connecting for 139 ms
      t("long", "open", Date.now() - 30 * MIN);
      t("long", "reconnecting", Date.now() - 11 * MIN);
      fx.setFileCount("quick", 125);
      fx.setFileCount("long", 125);
      const levelAlert = (company: string) =>
        store.outbox.list().find((r) => r.company === company && r.kind === "level");
      await waitFor(() => levelAlert("quick") && levelAlert("long"), { what: "both monitor alerts" });
      expect(levelAlert("quick")?.html).not.toContain("Also disconnected");
      expect(levelAlert("long")?.html).toContain("<b>Also disconnected: reconnecting for 11m");
    } finally {
      await fx.cleanup();
    }
  });

  it("the ladder's 'cleanup cannot help' is not repeated right after the level alert said it", () => {
    let now = Date.UTC(2026, 11, 2, 12);
    const { fx, store, alerts } = setup(() => now);
    try {
      store.alertState.put("acme", { level: "warning", levelSince: now, lastAlertAt: now }, now);
      now += 15_000;
      alerts.notice("acme: cleanup cannot help now", "…", { kind: "ladder-cannot_help" }, "acme");
      expect(store.outbox.list()).toHaveLength(0);
      now += 61 * MIN; // a reminder after remindEvery is news again
      alerts.notice("acme: cleanup cannot help now", "…", { kind: "ladder-cannot_help" }, "acme");
      expect(store.outbox.list().map((r) => r.kind)).toEqual(["ladder-cannot_help"]);
    } finally {
      store.close();
      void fx.cleanup();
    }
  });

  it("an outage already told on Telegram is not told again at the next start", () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const { fx, store, alerts } = setup(() => now);
    try {
      store.ladder.startOutage("probe failed", 3, now - 10 * MIN);
      const clock = { now: () => now };
      expect(tellOutageInProgress(store, clock, alerts, true)).toBe(true);
      expect(tellOutageInProgress(store, clock, alerts, true)).toBe(false);
      expect(store.outbox.list().filter((r) => r.kind === "outage")).toHaveLength(1);
    } finally {
      store.close();
      void fx.cleanup();
    }
  });

  it("a ladder step's 'alert queued' shows whether the alert was sent", () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const { fx, store, alerts } = setup(() => now);
    try {
      const id = store.ladder.addStep("acme", "alert:down", "down 10m", "alert queued", now);
      const step = store.ladder.steps("acme").find((s) => s.id === id);
      if (!step) throw new Error("no step");
      expect(currentStepResult(store, "acme", step)).toBe("alert not sent (already reported)");
      const rendered: RenderedAlert = { html: "x", text: "x", silent: false, payload: {} };
      alerts.queue("acme", "ladder-down", "warning", rendered);
      expect(currentStepResult(store, "acme", step)).toBe("alert pending");
      for (const r of store.outbox.list()) store.outbox.markSent(r.id, now + 1_000);
      expect(currentStepResult(store, "acme", step)).toBe("alert sent");
    } finally {
      store.close();
      void fx.cleanup();
    }
  });
});
