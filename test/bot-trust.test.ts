/**
 * The bot's trust boundaries, through the real client against the loopback Bot API: the pairing QR
 * reaches only the private chat of an allowed user who asked for it; a stranger's flood leaves one
 * audit row and one reply; a Confirm is bound to its asker; commands for another bot, forwarded
 * messages and channel posts are ignored; unknown and not-yours companies get the same answer.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hidePaths } from "../src/bot/reply.js";
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
import { runCli } from "./helpers/run-cli.js";
import { waitFor } from "./helpers/wait-for.js";

let offset = 0;
const clock = { now: () => Date.now() + offset };

let fx: FleetFixture;
let api: BotApiServer;

beforeEach(async () => {
  offset = 0;
  ({ fx, api } = await startBotFleet());
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

const ask = (chat: number, user: number, text: string): Promise<ReceivedMessage> =>
  api.answerTo(chat, user, text);
const handled = (updateId: number): Promise<void> => api.handled(updateId, 30_000);

describe("the pairing QR goes only to a private chat of an allowed user who asked", () => {
  it("never to a group, never unasked; deleted after pairing.qrTtl and once paired", async () => {
    const { store, supervisor } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    store.connections.putQr("acme", "QR-ACME-1", Date.now());
    store.connections.putQr("bistro", "QR-BISTRO-1", Date.now());
    await supervisor.bot?.publishQr();
    expect(api.photos).toEqual([]); // pairing alone sends nothing anywhere

    const inGroup = await ask(FLEET_CHAT, ADMIN, "/qr acme");
    expect(inGroup.text).toContain("ask me in a private chat");
    const inBistroGroup = await ask(BISTRO_CHAT, OPERATOR, "/qr bistro");
    expect(inBistroGroup.text).toContain("ask me in a private chat");
    // A stranger in a private chat, and an operator asking for a company that is not theirs.
    const stranger = await ask(STRANGER, STRANGER, "/qr acme");
    expect(stranger.text).toBe("not authorized (your user id: 99)");
    const notTheirs = await ask(OPERATOR, OPERATOR, "/qr acme");
    expect(notTheirs.text).toContain("No company <code>acme</code> that you may command here");
    await supervisor.bot?.publishQr();
    expect(api.photos).toEqual([]);

    // Telegram's Start button in a new private chat: a greeting, nothing started.
    expect((await ask(OPERATOR, OPERATOR, "/start")).text).toContain("/help lists the commands");
    // The operator's private chat is accepted without being in chatIds; the QR comes there only.
    const asked = await ask(OPERATOR, OPERATOR, "/qr bistro");
    expect(asked.text).toContain("goes here; it is deleted once paired or in 10m");
    const photo = await waitFor(() => api.photos[0], { what: "bistro QR in the operator's chat" });
    expect(photo.chatId).toBe(String(OPERATOR));
    expect(photo.caption).toContain("bistro: scan in WhatsApp");
    // The alert's QR button pressed in the group: the QR goes to the presser's private chat.
    const alertLike = await ask(FLEET_CHAT, ADMIN, "/status acme");
    const qrButton = store.bot.addCallback(
      { action: "qr", company: "acme", chat: String(FLEET_CHAT) },
      Date.now(),
    );
    const before = api.messagesFor(String(FLEET_CHAT)).length;
    api.pressData(FLEET_CHAT, alertLike.messageId, ADMIN, qrButton);
    const said = await waitFor(() => api.messagesFor(String(FLEET_CHAT))[before], {
      what: "QR button answer",
    });
    expect(said.text).toContain("goes to your private chat with me");
    const adminPhoto = await waitFor(() => api.photos.find((p) => p.chatId === String(ADMIN)), {
      what: "acme QR in the admin's private chat",
    });
    expect(adminPhoto.caption).toContain("acme:");
    for (const p of api.photos) expect(Number(p.chatId)).toBeGreaterThan(0);
    expect(api.photos.map((p) => p.chatId).sort()).toEqual([String(ADMIN), String(OPERATOR)]);

    // A rotation edits in place; after pairing.qrTtl (10m) the photo is deleted.
    store.connections.putQr("bistro", "QR-BISTRO-2", Date.now());
    await supervisor.bot?.publishQr();
    expect(photo.edits).toBe(1);
    offset = 10 * 60_000 + 1;
    await supervisor.bot?.publishQr();
    expect(photo.deleted).toBe(true);
    expect(adminPhoto.deleted).toBe(true);
    store.connections.putQr("bistro", "QR-BISTRO-3", Date.now());
    await supervisor.bot?.publishQr();
    expect(api.photos).toHaveLength(2); // the ask ran out: nothing new

    // Asked again, then the company pairs: deleted at once.
    await ask(OPERATOR, OPERATOR, "/qr bistro");
    const again = await waitFor(() => api.photos[2], { what: "bistro QR asked again" });
    store.connections.transition(
      { company: "bistro", to: "open", code: null, message: null, holder: null },
      clock.now(),
    );
    await supervisor.bot?.publishQr();
    expect(again.deleted).toBe(true);
    expect(store.bot.qrAsks("bistro", clock.now())).toEqual([]);
  });

  it("a user who never opened a chat with the bot: the ask is dropped, said once in the log", async () => {
    const { store, supervisor } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    api.unknownChat(String(OPERATOR));
    const now = Date.now();
    store.bot.askQr({
      company: "bistro",
      chat: String(OPERATOR),
      user: OPERATOR,
      askedAt: now,
      until: now + 600_000,
    });
    store.connections.putQr("bistro", "QR-BISTRO-1", now);
    await supervisor.bot?.publishQr();
    await supervisor.bot?.publishQr();
    expect(api.photos).toEqual([]);
    expect(store.bot.qrAsks("bistro", now)).toEqual([]);
    const said = fx.logLines.filter((l) =>
      String(l.msg).startsWith("Could not send the pairing QR of bistro"),
    );
    expect(said).toHaveLength(1);
  });

  it("a pairing code too goes only where it was asked for", async () => {
    const { store, supervisor } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    store.connections.putPairingCode("acme", "ABCD1234", Date.now());
    await supervisor.bot?.publishQr();
    await ask(ADMIN, ADMIN, "/qr acme");
    const code = await waitFor(() => api.messages.find((m) => m.text.includes("ABCD1234")), {
      what: "pairing code",
    });
    expect(code.chatId).toBe(String(ADMIN));
    expect(api.messages.filter((m) => m.text.includes("ABCD1234"))).toHaveLength(1);
  });
});

describe("warden pair --to <user>", () => {
  it("sends the QR to a named allowed user's private chat only; refuses anyone else", async () => {
    const { store, supervisor } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    const env = { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home };
    const refused = await runCli(["pair", "bistro", "--to", String(STRANGER), "--timeout", "1s"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "Telegram user 99 is neither in telegram.admins nor in telegram.operators of bistro",
    );
    expect(store.bot.qrAsks("bistro", Date.now())).toEqual([]);
    // No worker answers here: the request times out, the ask stays for pairing.qrTtl.
    await runCli(["pair", "bistro", "--to", String(OPERATOR), "--timeout", "1s"], env);
    expect(store.bot.qrAsks("bistro", Date.now()).map((a) => a.chat)).toEqual([String(OPERATOR)]);
    store.connections.putQr("bistro", "QR-BISTRO-1", Date.now());
    await supervisor.bot?.publishQr();
    expect(api.photos.map((p) => p.chatId)).toEqual([String(OPERATOR)]);
  }, 60_000);
});

describe("refusals cannot fill the audit table", () => {
  it("a stranger's 1,000 refused commands leave one audit row and one reply within the hour", async () => {
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    let last = 0;
    for (let i = 0; i < 1_000; i++)
      last = api.userSends(FLEET_CHAT, STRANGER, `/cleanup acme ${"x".repeat(4000)}`);
    await handled(last);
    expect(api.messagesFor(String(FLEET_CHAT)).map((m) => m.text)).toEqual([
      "not authorized (your user id: 99)",
    ]);
    const rows = store.audit.list().filter((r) => r.action === "telegram-refused");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.result.length).toBeLessThanOrEqual("not authorized: ".length + 101);
    expect(store.bot.refusalsCounted(String(STRANGER))).toBe(999);
    // An hour later the next refusal is audited again, with the count of the ones only counted.
    offset = 3_600_000;
    const next = api.userSends(FLEET_CHAT, STRANGER, "/status");
    await handled(next);
    const again = store.audit.list().filter((r) => r.action === "telegram-refused");
    expect(again).toHaveLength(2);
    expect(again[1]?.detail.refusedSinceLast).toBe(999);
  });
});

describe("a Confirm is bound to who asked, where", () => {
  it("another user, or another chat, pressing it is told so and nothing runs", async () => {
    fx.writeCompanyConfig("bistro", {
      telegram: { chatIds: [BISTRO_CHAT], operators: [OPERATOR, STRANGER] },
    });
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    const preview = await ask(FLEET_CHAT, ADMIN, "/restore bistro");
    // No backup yet: make one, then ask for the restore preview.
    expect(preview.text).toContain("bistro");
    await ask(FLEET_CHAT, ADMIN, "/backup bistro");
    const restore = await ask(FLEET_CHAT, ADMIN, "/restore bistro");
    const confirm = restore.buttons?.flat().find((b) => b.text === "Confirm")?.callback_data as string;
    expect(confirm).toBeDefined();
    // The operator of bistro, in the bistro chat, presses the admin's Confirm.
    const otherChat = api.pressData(BISTRO_CHAT, restore.messageId, OPERATOR, confirm);
    await waitFor(() => api.callbackAnswers.find((a) => a.id === otherChat), { what: "answer" });
    // Another user in the same chat, under the same message.
    const otherUser = api.pressData(FLEET_CHAT, restore.messageId, STRANGER, confirm);
    await waitFor(() => api.callbackAnswers.find((a) => a.id === otherUser), { what: "answer" });
    for (const id of [otherChat, otherUser])
      expect(api.callbackAnswers.find((a) => a.id === id)?.text).toContain("Only the person who asked");
    // The admin, under another message of the same chat.
    const otherMessage = api.pressData(FLEET_CHAT, restore.messageId - 1, ADMIN, confirm);
    await waitFor(() => api.callbackAnswers.find((a) => a.id === otherMessage), { what: "answer" });
    expect(api.callbackAnswers.find((a) => a.id === otherMessage)?.text).toContain(
      "Only the person who asked",
    );
    expect(store.bot.callback(confirm)?.usedAt).toBeNull();
    expect(store.audit.list("bistro").some((r) => r.action === "restore")).toBe(false);
    // The asker, under the message, in the chat: it runs.
    api.userPresses(restore, ADMIN, "Confirm");
    await waitFor(() => store.audit.list("bistro").some((r) => r.action === "restore"), { what: "restored" });
  });
});

describe("what the bot does not act on", () => {
  it("ignores /cmd@other_bot, forwarded commands and channel posts; answers /cmd@its_own_name", async () => {
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    const other = api.userSends(FLEET_CHAT, ADMIN, "/status@other_bot");
    const forwarded = api.userForwards(FLEET_CHAT, ADMIN, "/stop acme");
    const post = api.deliver({
      channel_post: {
        message_id: 1,
        date: 1,
        chat: { id: -100777, type: "channel" },
        text: "/status",
        entities: [{ type: "bot_command", offset: 0, length: 7 }],
      },
    });
    await handled(Math.max(other, forwarded, post));
    expect(api.messages).toEqual([]);
    expect(store.control.desired("acme").desired).toBe("run");
    const own = await ask(FLEET_CHAT, ADMIN, "/status@warden_test_bot");
    expect(own.text).toContain("Fleet: 2 companies");
  });

  it("answers an unknown company and one that is not yours the same way, with no absolute path", async () => {
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    const notYours = await ask(BISTRO_CHAT, OPERATOR, "/status acme");
    const unknown = await ask(BISTRO_CHAT, OPERATOR, "/status nosuchco");
    expect(unknown.text.replace("nosuchco", "X")).toBe(notYours.text.replace("acme", "X"));
    const adminUnknown = await ask(FLEET_CHAT, ADMIN, "/backups nosuchco");
    expect(adminUnknown.text).toContain("No company <code>nosuchco</code>");
    const restore = await ask(FLEET_CHAT, ADMIN, "/restore acme nope.tar.gz");
    for (const m of api.messages) {
      expect(m.text).not.toContain(fx.sessionsDir);
      expect(m.text).not.toContain(fx.home);
      expect(m.text).not.toMatch(/(^|\s)\/tmp\//);
    }
    expect(restore.text).toContain("nope.tar.gz");
  });
});

describe("the audit log is bounded", () => {
  it("pages every read (store, /audit, warden audit) and prunes rows older than audit.keep", async () => {
    fx.writeConfig({ telegram: { chatIds: [FLEET_CHAT], admins: [ADMIN] }, audit: { keep: "1d" } });
    const { store, supervisor } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT, clock });
    const now = Date.now();
    for (let i = 0; i < 40; i++)
      store.audit.add({
        at: now - (i < 10 ? 2 * 86_400_000 : 0),
        actor: "cli:x",
        company: "acme",
        action: `a${i}`,
        ok: true,
        result: "",
        detail: {},
      });
    const page = store.audit.list("acme", { limit: 15 });
    expect(page.map((r) => r.action)).toEqual(Array.from({ length: 15 }, (_, i) => `a${25 + i}`));
    const older = store.audit.list("acme", { limit: 15, before: page[0]?.id });
    expect(older.at(-1)?.action).toBe("a24");
    expect(store.audit.list(undefined, { limit: 5_000 }).length).toBeLessThanOrEqual(1_000);
    const answer = await ask(FLEET_CHAT, ADMIN, "/audit acme");
    expect(answer.text.split("\n")).toHaveLength(16);
    expect(answer.text).toContain(`Older: /audit acme ${page[0]?.id}`);
    const next = await ask(FLEET_CHAT, ADMIN, `/audit acme ${page[0]?.id}`);
    expect(next.text).toContain("a24");
    expect(next.text).not.toContain("a25");
    const env = { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home };
    const cli = await runCli(
      ["audit", "acme", "--limit", "5", "--before", String(page[0]?.id), "--json"],
      env,
    );
    const doc = JSON.parse(cli.stdout) as { rows: { action: string }[]; nextBefore?: number };
    expect(doc.rows.map((r) => r.action)).toEqual(["a20", "a21", "a22", "a23", "a24"]);
    expect(doc.nextBefore).toBeDefined();
    supervisor.prune();
    expect(store.audit.list("acme").map((r) => r.action)).not.toContain("a0");
    expect(store.audit.list("acme").filter((r) => /^a\d+$/.test(r.action))).toHaveLength(30);
  });
});

describe("replies without absolute paths", () => {
  it("names the known roots and keeps only the last part of any other path; commands stay", () => {
    const roots = [
      { path: "/srv/warden/sessions", name: "sessionsDir" },
      { path: "/srv/warden/data", name: "WARDEN_HOME" },
    ];
    expect(
      hidePaths(
        "cannot read /srv/warden/sessions/acme/creds.json; backup /srv/warden/data/backups/acme/x.tar.gz; lock (/var/lib/x/db.lock)",
        roots,
      ),
    ).toBe(
      "cannot read sessionsDir/acme/creds.json; backup WARDEN_HOME/backups/acme/x.tar.gz; lock (…/db.lock)",
    );
    expect(hidePaths("/pair acme, then /qr acme; see https://example.com/a/b", roots)).toBe(
      "/pair acme, then /qr acme; see https://example.com/a/b",
    );
  });
});
