import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { COUNT_EVERY_FILE, FleetFixture, TEST_TOKEN } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

const CHAT = "-1001";

let fx: FleetFixture;
let api: BotApiServer;

beforeEach(async () => {
  fx = new FleetFixture({
    ...COUNT_EVERY_FILE,
    telegram: { chatIds: [Number(CHAT)] },
    alerts: { remindEvery: "1h", hysteresis: 10 },
  });
  api = new BotApiServer();
  await api.start();
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

const levelOf = (text: string) => /(MONITOR|WARNING|CRITICAL|FATAL|RESOLVED)/.exec(text)?.[1];

describe("supervisor alerts on Telegram", () => {
  it("sends one message per level crossed upwards (120/150/180/200) and one resolved message", async () => {
    fx.setFileCount("acme", 100);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot });
    expect(api.messages).toHaveLength(0);

    const expected = [
      [120, "MONITOR"],
      [150, "WARNING"],
      [180, "CRITICAL"],
      [200, "FATAL"],
    ] as const;
    for (const [count, level] of expected) {
      fx.setFileCount("acme", count);
      await waitFor(() => api.messages.length === expected.findIndex(([c]) => c === count) + 1, {
        what: level,
      });
      const last = api.messages.at(-1);
      expect(levelOf(last?.text ?? "")).toBe(level);
    }
    // Staying at a level (even with more files) sends nothing new.
    fx.setFileCount("acme", 205);
    await waitFor(() => store.companies.get("acme")?.total === 205, { what: "rescan at 205" });
    // Coming down, but not hysteresis below monitor: no resolved message.
    fx.setFileCount("acme", 112);
    await waitFor(() => store.companies.get("acme")?.total === 112, { what: "rescan at 112" });
    expect(api.messages).toHaveLength(4);
    fx.setFileCount("acme", 105);
    await waitFor(() => api.messages.length === 5, { what: "resolved" });
    expect(levelOf(api.messages[4]?.text ?? "")).toBe("RESOLVED");

    const monitor = api.messages[0];
    expect(monitor?.chatId).toBe(CHAT);
    expect(monitor?.parseMode).toBe("HTML");
    expect(monitor?.disableNotification).toBe(true);
    expect(api.messages[1]?.disableNotification).toBe(false);
    expect(monitor?.text).toContain("<code>acme</code>");
    expect(monitor?.text).toContain("counted 120 (basis counted); total 120: live 120");
    expect(monitor?.text).toContain("By category: session 120");
    expect(monitor?.text).toMatch(/Next: .+/);
    expect(api.requests.every((r) => r.token === TEST_TOKEN)).toBe(true);
  });

  it("loses and repeats nothing across a restart", async () => {
    fx.setFileCount("acme", 125);
    const first = await fx.startSupervisor({ apiRoot: api.apiRoot });
    await waitFor(() => api.messages.length === 1, { what: "monitor alert" });

    // The API goes down; a warning is queued but cannot be delivered; the supervisor restarts.
    await api.stop();
    fx.setFileCount("acme", 155);
    await waitFor(() => first.store.outbox.list().some((r) => r.level === "warning"), {
      what: "warning queued",
    });
    await fx.stopSupervisor(first.supervisor, 200);
    const { openStore } = await import("../src/store/store.js");
    const between = openStore(`${fx.home}/warden.db`);
    expect(between.outbox.list().map((r) => [r.level, r.status])).toEqual([
      ["monitor", "sent"],
      ["warning", "pending"],
    ]);
    between.close();

    fx.setFileCount("acme", 185);
    await api.start();
    const second = await fx.startSupervisor({ apiRoot: api.apiRoot });
    await waitFor(() => api.messages.length === 3, { what: "warning then critical after restart" });
    expect(api.messages.map((m) => levelOf(m.text))).toEqual(["MONITOR", "WARNING", "CRITICAL"]);

    // A third start with the same counts sends nothing again.
    await fx.stopSupervisor(second.supervisor);
    const third = await fx.startSupervisor({ apiRoot: api.apiRoot });
    await third.supervisor.fleet.fullScan();
    expect(third.store.outbox.pendingCount()).toBe(0);
    expect(api.messages).toHaveLength(3);
    expect(third.store.outbox.list().filter((r) => r.status === "sent")).toHaveLength(3);
  });

  it("delivers late and in order when the Bot API was down", async () => {
    await api.stop();
    fx.setFileCount("acme", 100);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot });
    for (const count of [121, 151, 181]) {
      fx.setFileCount("acme", count);
      await waitFor(() => store.companies.get("acme")?.total === count, { what: `scan at ${count}` });
    }
    await waitFor(
      () => store.outbox.list().some((r) => r.attempts > 0 && r.lastError?.includes("network failed")),
      {
        what: "a failed attempt",
      },
    );
    expect(api.messages).toHaveLength(0);
    await api.start();
    await waitFor(() => api.messages.length === 3, { what: "late delivery" });
    expect(api.messages.map((m) => levelOf(m.text))).toEqual(["MONITOR", "WARNING", "CRITICAL"]);
    // The server records a message before it answers; the row is marked sent on the answer.
    await waitFor(() => store.outbox.pendingCount() === 0, { what: "every row marked sent" });
    // The failure was logged without the token.
    expect(fx.rawLog.some((l) => l.includes("Alert delivery failed"))).toBe(true);
    expect(fx.rawLog.join("\n")).not.toContain(TEST_TOKEN);
  });

  it("honours 429 retry_after", async () => {
    api.rateLimitNext(2);
    fx.setFileCount("acme", 125);
    await fx.startSupervisor({ apiRoot: api.apiRoot });
    await waitFor(() => api.messages.length === 1, {
      what: "delivery after the flood wait",
      timeoutMs: 15_000,
    });
    const attempts = api.requests.filter((r) => r.method === "sendMessage");
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_950);
    expect(fx.rawLog.join("\n")).not.toContain(TEST_TOKEN);
  });

  it("follows a group's migrate_to_chat_id, for this message and the next ones", async () => {
    api.migrateChat(CHAT, "-1009999");
    fx.setFileCount("acme", 125);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot });
    await waitFor(() => api.messagesFor("-1009999").length === 1, { what: "delivery to the supergroup" });
    fx.setFileCount("acme", 155);
    await waitFor(() => api.messagesFor("-1009999").length === 2, { what: "second alert to the supergroup" });
    expect(api.requests.filter((r) => r.params.chat_id === CHAT)).toHaveLength(1);
    expect(store.outbox.chatMigrations().get(CHAT)).toBe("-1009999");
  });

  it("sends per-company chats too, and nothing for a muted company", async () => {
    fx.writeCompanyConfig("acme", { telegram: { chatIds: [-2002] } });
    fx.writeCompanyConfig("quiet", { mutedUntil: new Date(Date.now() + 3_600_000).toISOString() });
    fx.setFileCount("acme", 125);
    fx.setFileCount("quiet", 190);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot });
    await waitFor(() => api.messages.length === 2, { what: "acme to both chats" });
    expect(api.messages.map((m) => m.chatId).sort()).toEqual(["-1001", "-2002"]);
    expect(store.alertState.get("quiet")?.level).toBe("critical");
    expect(store.outbox.list().filter((r) => r.company === "quiet")).toHaveLength(0);
  });

  it("paces messages to one chat at no more than one per second", async () => {
    fx.setFileCount("a1", 125);
    fx.setFileCount("a2", 125);
    fx.setFileCount("a3", 125);
    const { supervisor } = await fx.startSupervisor({ apiRoot: api.apiRoot });
    // Rebuild with the production pacing: the fixture's dispatcher uses 50 ms to keep tests short.
    await fx.stopSupervisor(supervisor);
    api.messages.length = 0;
    const { OutboxDispatcher } = await import("../src/alerts/outbox-dispatcher.js");
    const { openStore } = await import("../src/store/store.js");
    const { createNotifiers } = await import("../src/alerts/notifiers/registry.js");
    const store = openStore(`${fx.home}/warden.db`);
    store.db.prepare("UPDATE outbox SET status = 'pending', attempts = 0").run();
    const logger = fx.logger();
    const dispatcher = new OutboxDispatcher({
      outbox: store.outbox,
      notifiers: createNotifiers({ telegramToken: TEST_TOKEN, telegramApiRoot: api.apiRoot }, logger),
      clock: { now: () => Date.now() },
      logger,
    });
    dispatcher.kick();
    await waitFor(() => api.messages.length === 3, { what: "three messages" });
    await dispatcher.close();
    store.close();
    const gaps = api.messages.slice(1).map((m, i) => m.at - (api.messages[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
  });
});

describe("supervisor without a Telegram token", () => {
  it("writes the same alerts as structured log lines", async () => {
    fx.setFileCount("acme", 152);
    const { store } = await fx.startSupervisor({ token: null });
    await waitFor(() => store.outbox.list().some((r) => r.status === "sent"), { what: "log delivery" });
    const line = fx.logLines.find((l) => (l.alert as { level?: string } | undefined)?.level === "warning");
    expect(line).toBeDefined();
    expect(line?.alert).toMatchObject({ company: "acme", kind: "level", total: 152, counted: 152 });
    expect(String(line?.msg)).toContain("WARNING acme");
    expect(api.requests).toHaveLength(0);
  });

  it("reports a vanished company folder", async () => {
    fx.setFileCount("gone", 3);
    const { store } = await fx.startSupervisor({ token: null });
    const { rmSync } = await import("node:fs");
    rmSync(`${fx.sessionsDir}/gone`, { recursive: true });
    await waitFor(() => store.outbox.list().some((r) => r.kind === "company-removed"), {
      what: "removal notice",
    });
    expect(store.companies.get("gone")?.removedAt).not.toBeNull();
  });
});
