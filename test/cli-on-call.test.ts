import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ackIncidents } from "../src/alerts/ack.js";
import { renderNotice } from "../src/alerts/format-alert.js";
import type { Notifier } from "../src/alerts/notifiers/notifier.js";
import { loadConfig } from "../src/config/load.js";
import { openDatabase } from "../src/store/db.js";
import { migrations } from "../src/store/migrations.js";
import { openStore } from "../src/store/store.js";
import { createAlertQueue } from "../src/supervisor/alert-queue.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { runCli } from "./helpers/run-cli.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture;
afterEach(async () => {
  await fx?.cleanup();
});

const envOf = (f: FleetFixture) => ({
  WARDEN_CONFIG: f.configFile,
  WARDEN_HOME: f.home,
  TELEGRAM_BOT_TOKEN: "",
  WARDEN_HTTP_TOKEN: "",
  USER: "alice",
});

describe("warden ack, silence, silences, unsilence, digest", () => {
  it("acks from the shell, silences a company and the fleet, lists and ends them; the digest names the owner", async () => {
    fx = new FleetFixture({ ...COUNT_EVERY_FILE, fleet: { probe: null } });
    fx.setFileCount("acme", 185);
    fx.setFileCount("bistro", 5);
    const { supervisor, store } = await fx.startSupervisor({ token: null });
    await waitFor(() => store.incidents.openOf("acme").length === 1, { what: "acme's incident" });
    await fx.stopSupervisor(supervisor);
    const env = envOf(fx);

    const ack = await runCli(["ack", "acme"], env);
    expect(ack.stderr).toBe("");
    expect(ack.stdout).toMatch(/^acme: acked incident #1 \(.*CRITICAL.*acme/);
    const again = await runCli(["ack", "acme"], env);
    expect(again.stdout).toBe("acme: nothing to ack (no open unacked incident)\n");

    const silence = await runCli(["silence", "acme", "--for", "2h", "--reason", "moving servers"], env);
    expect(silence.code).toBe(0);
    expect(silence.stdout).toMatch(/^silence #1: acme until \S+ \(moving servers\)/);
    const all = await runCli(["silence", "--all", "--until", "09:00"], env);
    expect(all.stdout).toMatch(/^silence #2: every company until /);
    const bad = await runCli(["silence", "acme", "--for", "soon"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--for takes a duration like "30m", "2h" or "1d", got "soon"');

    const list = JSON.parse((await runCli(["silences", "--json"], env)).stdout);
    expect(list).toEqual([
      expect.objectContaining({ id: 1, company: "acme", reason: "moving servers", actor: "cli:alice" }),
      expect.objectContaining({ id: 2, company: null }),
    ]);
    expect((await runCli(["unsilence", "--all"], env)).stdout).toBe("ended 1 silence(s)\n");

    const digest = await runCli(["digest"], env);
    expect(digest.stdout).toContain("2 of 2 companies need a look");
    expect(digest.stdout).toContain(
      "critical acme: 185 counted files (critical): cleanup runs in the maintenance window 03:00-05:00 (or npm run warden -- cleanup acme)\n",
    );
    expect(digest.stdout).toMatch(/acme: incident #1 .* acked by cli:alice/);
    expect(digest.stdout).toContain("acme: no backup: npm run warden -- backup acme");
    expect(digest.stdout).toContain("bistro: no backup: npm run warden -- backup bistro");

    const check = openStore(path.join(fx.home, "warden.db"));
    try {
      expect(check.incidents.get(1)).toMatchObject({ ackedBy: "cli:alice", ackedName: "cli:alice" });
      expect(check.audit.list("acme").map((r) => r.action)).toEqual(
        expect.arrayContaining(["ack", "silence"]),
      );
      expect(check.audit.list("*").map((r) => r.action)).toEqual(["silence", "unsilence"]);
    } finally {
      check.close();
    }
  });

  it("an alert still in the outbox when its incident is acked goes out showing the ack, without the Ack button", () => {
    fx = new FleetFixture({ telegram: { chatIds: [-1001] } });
    const store = openStore(path.join(fx.home, "warden.db"));
    try {
      const config = loadConfig(fx.configFile);
      const now = Date.parse("2026-12-02T14:02:00Z");
      const clock = { now: () => now };
      // Telegram is configured (rows per chat, with buttons); nothing delivers in this test.
      const telegram: Notifier = { name: "telegram", send: async () => undefined };
      const alerts = createAlertQueue({
        store,
        notifiers: new Map([["telegram", telegram]]),
        clock,
        logger: fx.logger(),
        config: () => config,
      });
      alerts.queue(
        "acme",
        "level",
        "critical",
        renderNotice("CRITICAL acme", "185 files", { level: "critical" }),
      );
      const buttonsOf = (payload: Record<string, unknown> | undefined) =>
        ((payload?.buttons ?? []) as { text: string }[][]).flat().map((b) => b.text);
      expect(buttonsOf(store.outbox.list()[0]?.payload)).toContain("Ack");
      const acked = ackIncidents(store, config, "acme", { actor: "cli:alice", name: "cli:alice" }, now);
      expect(acked).toHaveLength(1);
      const rows = store.outbox.list();
      expect(rows).toHaveLength(1); // no edit queued: nothing was sent yet
      expect(rows[0]?.html).toMatch(/\n\n✅ acked by cli:alice at 14:02$/);
      expect(buttonsOf(rows[0]?.payload)).toEqual(["Status", "Mute 1h", "Cleanup…"]);
    } finally {
      store.close();
    }
  });

  it("an existing mute becomes a silence of its company when the database is upgraded", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "warden-mutes-"));
    try {
      const file = path.join(dir, "warden.db");
      // The database as it was before on call: every migration up to the one that adds silences.
      const before = migrations.slice(
        0,
        migrations.findIndex((m) => m.sql.includes("CREATE TABLE silences")),
      );
      const old = openDatabase(file, { migrations: before });
      const until = Date.now() + 3_600_000;
      old
        .prepare("INSERT INTO mutes (company, until, actor, at) VALUES (?, ?, ?, ?)")
        .run("acme", until, "cli:bob", 1);
      old.close();
      const store = openStore(file);
      try {
        expect(store.mutes.get("acme")).toEqual({ company: "acme", until, actor: "cli:bob", at: 1 });
        expect(store.silences.holding("acme", Date.now())).toMatchObject({
          company: "acme",
          reason: "warden mute",
        });
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
