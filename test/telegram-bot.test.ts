import { existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BotApiServer, ReceivedMessage } from "./helpers/bot-api-server.js";
import {
  ADMIN,
  BISTRO_CHAT,
  BOT,
  FLEET_CHAT,
  OPERATOR,
  STRANGER,
  startBotFleet,
} from "./helpers/bot-fleet.js";
import type { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { waitFor } from "./helpers/wait-for.js";

const STRANGE_CHAT = -3003;

let fx: FleetFixture;
let api: BotApiServer;

beforeEach(async () => {
  ({ fx, api } = await startBotFleet());
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

const ask = (chat: number, user: number, text: string): Promise<ReceivedMessage> =>
  api.answerTo(chat, user, text);
const handled = (updateId: number): Promise<void> => api.handled(updateId);

/** A company folder with `stale` sessions untouched for 30 days, creds.json and 3 fresh files. */
async function staleFolder(company: string, stale: number): Promise<string> {
  const dir = path.join(fx.sessionsDir, company);
  rmSync(dir, { recursive: true, force: true });
  await createPairedFolder(dir);
  const old = new Date(Date.now() - 30 * 86_400_000);
  for (let i = 0; i < stale; i++) {
    const file = path.join(dir, `session-${5000 + i}.0.json`);
    writeFileSync(file, "{}");
    utimesSync(file, old, old);
  }
  for (let i = 0; i < 3; i++) writeFileSync(path.join(dir, `app-state-sync-key-A${i}.json`), "{}");
  return dir;
}

describe("authorization (fails closed)", () => {
  it("answers an admin in the fleet chat and audits the command with telegram:<user id>", async () => {
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const status = await ask(FLEET_CHAT, ADMIN, "/status");
    expect(status.text).toContain("Fleet: 2 companies");
    // Sorted by severity: the company past warning comes first.
    fx.setFileCount("bistro", 160);
    // Its alert reaches this chat first, so the next message is the answer.
    await waitFor(() => api.messagesFor(String(FLEET_CHAT)).some((m) => m.text.includes("WARNING bistro")), {
      what: "bistro warning delivered",
    });
    const sorted = await ask(FLEET_CHAT, ADMIN, "/status");
    expect(sorted.text.split("\n").slice(1, 3)).toEqual([
      "⚠️ <code>bistro</code> warning · 160 counted · unknown",
      "✅ <code>acme</code> ok · 10 counted · unknown",
    ]);
    expect(sorted.text).toContain("(1 warning, 0 down)");
    expect(status.text).toContain("<code>acme</code>");
    expect(status.text).toContain("<code>bistro</code>");
    const one = await ask(FLEET_CHAT, ADMIN, "/status acme");
    expect(one.text).toContain("Files: total 10, counted 10");
    expect(one.text).toContain("By category: session 10");
    const rows = store.audit.list().filter((r) => r.action === "telegram-command");
    expect(rows.map((r) => [r.actor, r.company, r.ok])).toEqual([
      ["telegram:42", "*", true],
      ["telegram:42", "*", true],
      ["telegram:42", "acme", true],
    ]);
    expect(api.commands.map((c) => c.command)).toContain("cleanup");
    const help = await ask(FLEET_CHAT, ADMIN, "/help");
    for (const c of ["status", "health", "cleanup", "restore", "qr", "pair", "mute", "unmute", "audit"])
      expect(help.text).toContain(`/${c}`);
    const health = await ask(FLEET_CHAT, ADMIN, "/health");
    expect(health.text).toContain("Outbox:");
    expect(health.text).toContain("Bot: polling");
  });

  it("refuses a stranger: no change, one audited refusal and one reply per hour", async () => {
    const dir = await staleFolder("acme", 20);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const reply = await ask(FLEET_CHAT, STRANGER, "/status");
    expect(reply.text).toBe("not authorized (your user id: 99)");
    const second = api.userSends(FLEET_CHAT, STRANGER, "/cleanup acme");
    const third = api.userSends(FLEET_CHAT, STRANGER, "/backup acme");
    await handled(third);
    expect(second).toBeLessThan(third);
    expect(api.messagesFor(String(FLEET_CHAT))).toHaveLength(1);
    const refused = store.audit.list().filter((r) => r.action === "telegram-refused");
    expect(refused.map((r) => [r.actor, r.ok, r.result])).toEqual([
      ["telegram:99", false, "not authorized: /status"],
    ]);
    expect(store.bot.refusalsCounted("99")).toBe(2);
    expect(readdirSync(dir)).toHaveLength(24);
    expect(existsSync(path.join(fx.home, "backups", "acme"))).toBe(false);
    expect(store.bot.callback("x")).toBeUndefined();
  });

  it("refuses an admin in a chat that is not listed", async () => {
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const reply = await ask(STRANGE_CHAT, ADMIN, "/status");
    expect(reply.text).toBe("not authorized (your user id: 42)");
  });

  it("scopes a company chat to its company, and an operator to the companies they operate", async () => {
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const inBistroChat = await ask(BISTRO_CHAT, OPERATOR, "/status");
    expect(inBistroChat.text).toContain("Fleet: 1 companies");
    expect(inBistroChat.text).toContain("bistro");
    expect(inBistroChat.text).not.toContain("acme");
    // The admin, in the bistro chat, sees bistro only (the chat decides what is visible); the
    // answer is the one an unknown company gets, so names cannot be probed.
    const notHere = "No company <code>acme</code> that you may command here; /status lists yours.";
    expect((await ask(BISTRO_CHAT, ADMIN, "/status acme")).text).toBe(notHere);
    // The operator, in the fleet chat, may command bistro but not acme.
    expect((await ask(FLEET_CHAT, OPERATOR, "/status bistro")).text).toContain("<b>bistro</b>");
    expect((await ask(FLEET_CHAT, OPERATOR, "/status acme")).text).toBe(notHere);
  });

  it("names unknown companies and bad arguments in one line", async () => {
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    expect((await ask(FLEET_CHAT, ADMIN, "/status nope")).text).toBe(
      "No company <code>nope</code> that you may command here; /status lists yours.",
    );
    expect((await ask(FLEET_CHAT, ADMIN, "/cleanup")).text).toBe("Usage: /cleanup &lt;company&gt;");
    expect((await ask(FLEET_CHAT, ADMIN, "/status ../etc")).text).toContain("No company <code>../etc</code>");
    expect((await ask(FLEET_CHAT, ADMIN, "/mute acme soon")).text).toContain("a duration like 30m");
    expect((await ask(FLEET_CHAT, ADMIN, "/frobnicate")).text).toContain("Unknown command /frobnicate");
  });
});

describe("cleanup in two taps", () => {
  it("previews the plan, then Confirm backs up, deletes and reports; a second press acts once", async () => {
    const dir = await staleFolder("acme", 40);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const preview = await ask(FLEET_CHAT, ADMIN, "/cleanup acme");
    expect(preview.text).toContain("Would delete 40 files (40 session");
    expect(preview.buttons?.flat().map((b) => b.text)).toEqual(["Confirm", "Cancel"]);
    expect(readdirSync(dir)).toHaveLength(44);

    const before = api.messagesFor(String(FLEET_CHAT)).length;
    api.userPresses(preview, ADMIN, "Confirm");
    const again = api.userPresses(preview, ADMIN, "Confirm");
    const done = await waitFor(() => api.messagesFor(String(FLEET_CHAT))[before], {
      what: "cleanup result",
      timeoutMs: 20_000,
    });
    expect(done.text, done.text).toContain("deleted 40 files, kept 4");
    expect(done.text).toContain("Backup (verified)");
    await waitFor(() => api.callbackAnswers.some((a) => a.id === again), { what: "second press answered" });
    expect(api.callbackAnswers.find((a) => a.id === again)?.text).toBe("Already done.");
    expect(readdirSync(dir).sort()).toEqual([
      "app-state-sync-key-A0.json",
      "app-state-sync-key-A1.json",
      "app-state-sync-key-A2.json",
      "creds.json",
    ]);
    const backups = readdirSync(path.join(fx.home, "backups", "acme"));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/pre-cleanup\.tar\.gz$/);
    const cleanups = store.audit.list("acme").filter((r) => r.action === "cleanup");
    expect(cleanups).toHaveLength(1);
    expect(cleanups[0]?.actor).toBe("telegram:42");
    expect(cleanups[0]?.ok).toBe(true);
    // The preview's buttons are gone, and nothing more was sent for the second press.
    expect(api.messages.find((m) => m.messageId === preview.messageId)?.buttons).toEqual([]);
    expect(api.messagesFor(String(FLEET_CHAT))).toHaveLength(before + 1);
  });

  it("a confirmation expires after 2 minutes (injected clock); Cancel changes nothing", async () => {
    const dir = await staleFolder("acme", 5);
    let now = Date.now();
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock: { now: () => now } });
    const first = await ask(FLEET_CHAT, ADMIN, "/cleanup acme");
    expect(first.text).toContain("Would delete 5 files");
    now += 2 * 60_000 + 1;
    const late = api.userPresses(first, ADMIN, "Confirm");
    await waitFor(() => api.callbackAnswers.find((a) => a.id === late), { what: "late press answered" });
    expect(api.callbackAnswers.find((a) => a.id === late)?.text).toBe("Expired: ask again.");

    const second = await ask(FLEET_CHAT, ADMIN, "/cleanup acme");
    expect(second.text).toContain("Would delete");
    const confirmData = second.buttons?.flat().find((b) => b.text === "Confirm")?.callback_data ?? "";
    const cancel = api.userPresses(second, ADMIN, "Cancel");
    await waitFor(() => api.callbackAnswers.find((a) => a.id === cancel), { what: "cancel answered" });
    expect(api.callbackAnswers.find((a) => a.id === cancel)?.text).toBe("Cancelled.");
    // Cancel removed the buttons; a stale client presses Confirm anyway.
    await waitFor(() => second.buttons?.length === 0, { what: "buttons removed" });
    const confirm = api.pressData(FLEET_CHAT, second.messageId, ADMIN, confirmData);
    await waitFor(() => api.callbackAnswers.find((a) => a.id === confirm), { what: "confirm answered" });
    expect(api.callbackAnswers.find((a) => a.id === confirm)?.text).toBe("Already cancelled.");
    expect(readdirSync(dir)).toHaveLength(9);
    expect(existsSync(path.join(fx.home, "backups", "acme"))).toBe(false);
  });

  it("refuses a button pressed by a user who may not act on the company", async () => {
    const dir = await staleFolder("acme", 5);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const preview = await ask(FLEET_CHAT, ADMIN, "/cleanup acme");
    const press = api.userPresses(preview, OPERATOR, "Confirm");
    await waitFor(() => api.callbackAnswers.find((a) => a.id === press), { what: "refused press answered" });
    expect(api.callbackAnswers.find((a) => a.id === press)?.text).toBe("not authorized (your user id: 77)");
    expect(readdirSync(dir)).toHaveLength(9);
    // The press is answered first, then audited: wait for the row rather than race it.
    await waitFor(() => store.audit.list("acme").some((r) => r.action === "telegram-refused"), {
      what: "refusal audited",
    });
  });
});

describe("alerts become a conversation", () => {
  it("puts Status, Mute 1h and Cleanup… under a warning alert; Status answers", async () => {
    fx.setFileCount("acme", 155);
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const alert = await waitFor(() => api.messages.find((m) => m.text.includes("WARNING acme")), {
      what: "warning alert",
    });
    expect(alert.buttons?.flat().map((b) => b.text)).toEqual(["Status", "Mute 1h", "Cleanup…", "Ack"]);
    for (const b of alert.buttons?.flat() ?? [])
      expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
    const before = api.messagesFor(String(FLEET_CHAT)).length;
    const press = api.userPresses(alert, ADMIN, "Status");
    const answer = await waitFor(() => api.messagesFor(String(FLEET_CHAT))[before], { what: "status" });
    expect(answer.text).toContain("<b>acme</b>: warning");
    expect(api.callbackAnswers.find((a) => a.id === press)?.text).toBe("OK");
    // A stale or forged button is answered, not ignored.
    const forged = api.pressData(FLEET_CHAT, alert.messageId, ADMIN, "nope");
    await waitFor(() => api.callbackAnswers.find((a) => a.id === forged), { what: "forged answered" });
    expect(api.callbackAnswers.find((a) => a.id === forged)?.text).toBe("This button is no longer valid.");
  });
});

describe("mute from Telegram (through the MuteControl the supervisor is given)", () => {
  it("/mute, /unmute and Mute 1h reach MuteControl with the user as actor; Mute 1h pressed twice mutes once", async () => {
    const calls: string[] = [];
    let now = 1_000_000;
    const mute = {
      mute: (company: string, until: number, actor: string) =>
        calls.push(`mute ${company} +${until - now} ${actor}`),
      unmute: (company: string, actor: string) => calls.push(`unmute ${company} ${actor}`),
    };
    fx.setFileCount("acme", 155);
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: { ...BOT, mute }, clock: { now: () => now } });
    const alert = await waitFor(() => api.messages.find((m) => m.text.includes("WARNING acme")), {
      what: "warning alert",
    });
    expect((await ask(FLEET_CHAT, ADMIN, "/mute acme 2h")).text).toContain("muted for 2h");
    expect((await ask(FLEET_CHAT, ADMIN, "/unmute acme")).text).toContain("unmuted");
    now += 5_000;
    api.userPresses(alert, ADMIN, "Mute 1h");
    const second = api.userPresses(alert, ADMIN, "Mute 1h");
    await waitFor(() => api.callbackAnswers.find((a) => a.id === second), { what: "second press answered" });
    expect(api.callbackAnswers.find((a) => a.id === second)?.text).toBe("Already done.");
    expect(calls).toEqual([
      "mute acme +7200000 telegram:42",
      "unmute acme telegram:42",
      "mute acme +3600000 telegram:42",
    ]);
    // A stranger's /mute reaches nothing.
    api.userSends(FLEET_CHAT, STRANGER, "/mute acme 1d");
    await waitFor(() => api.messagesFor(String(FLEET_CHAT)).some((m) => m.text.includes("your user id: 99")));
    expect(calls).toHaveLength(3);
  });
});

describe("polling", () => {
  it("acknowledges an update only after handling it: a restart neither repeats nor loses a command", async () => {
    const first = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const health = api.userSends(FLEET_CHAT, ADMIN, "/health");
    await handled(health);
    await fx.stopSupervisor(first.supervisor);
    // Telegram sends the handled update again (killed before confirming it): it is not repeated.
    api.redeliver(health);
    // Sent while no supervisor runs: Telegram keeps it.
    const pending = api.userSends(FLEET_CHAT, ADMIN, "/status acme");
    const second = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    await handled(pending);
    const texts = api.messagesFor(String(FLEET_CHAT)).map((m) => m.text);
    expect(texts.filter((t) => t.includes("wa-warden health"))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("<b>acme</b>"))).toHaveLength(1);
    expect(second.store.cursors.get("telegram-update")).toBe(pending);
  });

  it("logs a 409 Conflict clearly, alerts once, and keeps answering once the other poller stops", async () => {
    api.conflictNext(3);
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    await waitFor(() => api.messages.find((m) => m.text.includes("409 Conflict")), {
      what: "conflict alert",
    });
    const reply = await ask(FLEET_CHAT, ADMIN, "/status");
    expect(reply.text).toContain("Fleet: 2 companies");
    const conflictAlerts = store.outbox.list().filter((r) => r.kind === "bot-conflict");
    expect(conflictAlerts).toHaveLength(1);
    expect(conflictAlerts[0]?.target).toBe(String(FLEET_CHAT));
    expect(fx.logLines.filter((l) => String(l.msg).includes("409 Conflict"))).toHaveLength(1);
    expect(api.requests.filter((r) => r.method === "getUpdates" && r.status === 409)).toHaveLength(3);
  });
});
