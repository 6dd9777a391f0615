import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BotApiServer, type ReceivedMessage } from "./helpers/bot-api-server.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

const CHAT = -1001;
const ESCALATION = -2002;
const ADMIN = 42;
const MIN = 60_000;

let fx: FleetFixture;
let api: BotApiServer;
/** The supervisor's clock: tests move it (reminders, escalation) without waiting. */
let now = Date.parse("2026-12-02T10:00:00Z");
const clock = { now: () => now };

beforeEach(async () => {
  now = Date.parse("2026-12-02T10:00:00Z");
  fx = new FleetFixture({
    ...COUNT_EVERY_FILE,
    telegram: { chatIds: [CHAT], admins: [ADMIN], escalateTo: [ESCALATION] },
    alerts: { remindEvery: "1h", hysteresis: 10, escalateAfter: "30m" },
    // The worker watch (and the on-call pass after it) runs only when a test calls it.
    workers: { heartbeatEvery: "1h" },
  });
  api = new BotApiServer();
  await api.start();
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

const inChat = (chat: number) => api.messagesFor(String(chat));

async function ask(user: number, text: string): Promise<ReceivedMessage> {
  const before = inChat(CHAT).length;
  api.userSends(CHAT, user, text);
  return waitFor(() => inChat(CHAT)[before], { what: `answer to ${text}`, timeoutMs: 20_000 });
}

const HTTP_TOKEN = "on-call-test-token-0123456789";

async function start(http = false) {
  return fx.startSupervisor({
    apiRoot: api.apiRoot,
    clock,
    bot: { pollTimeoutSec: 1, backoffMs: 50, qrEveryMs: 60_000 },
    ...(http ? { http: { token: HTTP_TOKEN } } : {}),
  });
}

describe("on call from Telegram", () => {
  it("an acked incident gets no reminder and no escalation; a higher level is a new, unacked incident escalated exactly once", async () => {
    fx.setFileCount("acme", 185);
    const { supervisor, store } = await start();
    const critical = await waitFor(() => inChat(CHAT).find((m) => m.text.includes("CRITICAL")), {
      what: "critical alert",
    });
    expect(critical.buttons?.flat().map((b) => b.text)).toEqual(
      expect.arrayContaining(["Ack", "Status", "Mute 1h", "Cleanup…"]),
    );

    // An ack edits the messages the outbox knows as sent (with their message id).
    await waitFor(() => store.outbox.list().some((r) => r.level === "critical" && r.status === "sent"), {
      what: "the critical alert marked sent",
    });
    api.userPresses(critical, ADMIN, "Ack");
    await waitFor(() => critical.edits === 1, { what: "the alert edited to show the ack" });
    expect(critical.text).toContain("✅ acked by @user42 at 10:00");
    expect(critical.buttons?.flat().map((b) => b.text)).not.toContain("Ack");
    const [incident] = store.incidents.openOf("acme");
    expect(incident).toMatchObject({ family: "files", severity: "critical", ackedBy: "telegram:42" });
    expect(store.audit.list("acme").find((r) => r.action === "ack")?.actor).toBe("telegram:42");

    // Two hours on, same level: the reminder is due but the incident is acked; nor is it escalated.
    now += 2 * 60 * MIN;
    const sent = inChat(CHAT).length;
    fx.setFileCount("acme", 187);
    await waitFor(() => store.companies.get("acme")?.total === 187, { what: "rescan at 187" });
    await supervisor.checkOnCall();
    await supervisor.dispatcher.flush(5_000);
    expect(inChat(CHAT)).toHaveLength(sent);
    expect(inChat(ESCALATION)).toHaveLength(0);

    // A higher level opens a new incident: unacked, so it is escalated once after escalateAfter.
    fx.setFileCount("acme", 205);
    const fatal = await waitFor(() => inChat(CHAT).find((m) => m.text.includes("FATAL")), { what: "fatal" });
    expect(fatal.buttons?.flat().map((b) => b.text)).toContain("Ack");
    const opened = store.incidents.openOf("acme");
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ severity: "fatal", ackedAt: null });
    // Who was paged comes from the outbox: the row is marked sent just after Telegram answered.
    await waitFor(() => store.outbox.list().some((r) => r.level === "fatal" && r.status === "sent"), {
      what: "the fatal alert marked sent",
    });
    now += 29 * MIN;
    await supervisor.checkOnCall();
    expect(inChat(ESCALATION)).toHaveLength(0);
    now += 2 * MIN;
    await supervisor.checkOnCall();
    await supervisor.checkOnCall();
    const escalation = await waitFor(() => inChat(ESCALATION)[0], { what: "escalation" });
    expect(escalation.text).toContain("Escalated");
    expect(escalation.text).toMatch(/unacked after 31m/);
    expect(escalation.text).toContain(`Paged: chat ${CHAT} at 12:00`);
    await supervisor.dispatcher.flush(5_000);
    expect(inChat(ESCALATION)).toHaveLength(1);

    // Acked from the escalation chat: both the alert and the escalation show it.
    await waitFor(() => store.outbox.list().some((r) => r.kind === "escalation" && r.status === "sent"), {
      what: "the escalation marked sent",
    });
    api.userPresses(escalation, ADMIN, "Ack");
    await waitFor(() => fatal.edits === 1 && escalation.edits === 1, { what: "both messages edited" });
    expect(fatal.text).toContain("acked by @user42");
  });

  it("/digest lists companies with an open problem only; a silence holds alerts, then summarises them once", async () => {
    fx.setFileCount("acme", 185);
    fx.setFileCount("bistro", 10);
    fx.writeConfig({
      ...COUNT_EVERY_FILE,
      telegram: { chatIds: [CHAT], admins: [ADMIN] },
      workers: { heartbeatEvery: "1h" },
      http: { listen: "127.0.0.1:0" },
      alerts: { digestAt: "11:00" },
    });
    const { supervisor, store } = await start(true);
    await waitFor(() => inChat(CHAT).find((m) => m.text.includes("CRITICAL")), { what: "critical alert" });
    // bistro is healthy once it has a verified backup.
    expect((await ask(ADMIN, "/backup bistro")).text).toContain("backup verified");
    expect(store.backupVerifications.of("bistro").size).toBe(1);

    const digest = await ask(ADMIN, "/digest");
    expect(digest.text).toContain("1 of 2 companies need a look");
    expect(digest.text).toContain("acme: 185 counted files (critical)");
    expect(digest.text).toContain("acme: no backup");
    expect(digest.text).toContain("nobody acked it");
    expect(digest.text).not.toContain("bistro");
    // The same recommendations on the bot's /health and the dashboard, each with its command.
    const health = await ask(ADMIN, "/health");
    expect(health.text).toContain("<b>Recommendations</b> (2)");
    expect(health.text).toContain("acme: no backup: <code>npm run warden -- backup acme</code>");
    const dashboard = await fetch(`http://${supervisor.http?.boundAddress}/`, {
      headers: { authorization: `Bearer ${HTTP_TOKEN}` },
    });
    const page = await dashboard.text();
    expect(page).toContain("Recommendations (2)");
    expect(page).toContain("acme: 185 counted files (critical)");

    const silenced = await ask(ADMIN, "/silence bistro 2h moving servers");
    expect(silenced.text).toMatch(/Silence #\d+: <b>bistro<\/b> until .*moving servers/);
    const before = inChat(CHAT).length;
    fx.setFileCount("bistro", 155);
    await waitFor(() => store.silences.held(1).length === 1, { what: "the warning held" });
    expect(inChat(CHAT)).toHaveLength(before);
    expect((await ask(ADMIN, "/silences")).text).toContain("bistro");

    expect((await ask(ADMIN, "/unsilence bistro")).text).toContain("Ended 1 silence");
    const after = inChat(CHAT).length;
    await supervisor.checkOnCall();
    const summary = await waitFor(() => inChat(CHAT)[after], { what: "summary" });
    expect(summary.text).toContain("bistro: 1 alert(s) held during silence #1");
    expect(summary.text).toContain("WARNING");
    await supervisor.checkOnCall();
    await supervisor.dispatcher.flush(5_000);
    expect(inChat(CHAT)).toHaveLength(after + 1);

    // The daily digest: once at alerts.digestAt, not again that day.
    now += 59 * 60_000;
    await supervisor.checkOnCall();
    now += 60_000;
    await supervisor.checkOnCall();
    await supervisor.checkOnCall();
    const daily = await waitFor(() => inChat(CHAT)[after + 1], { what: "daily digest" });
    expect(daily.text).toContain("<b>wa-warden digest</b>: 2 of 2 companies need a look");
    expect(daily.disableNotification).toBe(true);
    await supervisor.dispatcher.flush(5_000);
    expect(inChat(CHAT)).toHaveLength(after + 2);
  });
});
