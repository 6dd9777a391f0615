import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import type { Worker } from "../src/worker/worker.js";
import { BotApiServer, type ReceivedMessage } from "./helpers/bot-api-server.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

const CHAT = -1001;
const ADMIN = 42;
const STRANGER = 99;

let fx: FleetFixture;
let api: BotApiServer;
const workers: Worker[] = [];

beforeEach(async () => {
  fx = new FleetFixture({
    telegram: { chatIds: [CHAT], admins: [ADMIN] },
    workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 5, pairAfter: "4s" },
  });
  api = new BotApiServer();
  await api.start();
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  await fx.cleanup();
  await api.stop();
});

async function ask(user: number, text: string, count = 1): Promise<ReceivedMessage[]> {
  const before = api.messagesFor(String(CHAT)).length;
  api.userSends(CHAT, user, text);
  await waitFor(() => api.messagesFor(String(CHAT)).length >= before + count, {
    what: `answer to ${text}`,
    timeoutMs: 20_000,
  });
  return api.messagesFor(String(CHAT)).slice(before);
}

// jsqr is CommonJS with a `default` export: under NodeNext the default import is module.exports.
const jsQR = jsQRModule.default;

function decode(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

async function startWithWorker(qrEveryMs = 60_000) {
  const running = await fx.startSupervisor({
    apiRoot: api.apiRoot,
    bot: { pollTimeoutSec: 1, backoffMs: 50, qrEveryMs },
  });
  const worker = createTestWorker({
    config: loadConfig(fx.configFile),
    store: running.store,
    logger: fx.logger(),
    holder: "test/0/1",
  });
  workers.push(worker);
  await worker.start();
  return { ...running, worker };
}

describe("bot actions through the same executors as the CLI", () => {
  it("/backup, /backups, /stop, /start, /reconnect and /audit, each audited as telegram:<id>", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    const { store } = await startWithWorker();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });

    const [backup] = await ask(ADMIN, "/backup acme");
    expect(backup?.text).toMatch(/backup verified: <code>\d{8}T\d{9}Z-manual\.tar\.gz<\/code>/);
    const files = readdirSync(path.join(fx.home, "backups", "acme"));
    expect(files).toHaveLength(1);
    const [list] = await ask(ADMIN, "/backups acme");
    expect(list?.text).toContain(files[0] as string);

    const stop = await ask(ADMIN, "/stop acme", 2);
    expect(stop[0]?.text).toMatch(/stop <code>acme<\/code> requested \(#\d+\)/);
    expect(stop[1]?.text).toMatch(/^✅ stop <code>acme<\/code>/);
    await waitFor(() => store.connections.get("acme")?.state === "stopped", { what: "acme stopped" });
    expect(store.control.desired("acme").desired).toBe("stop");
    const start = await ask(ADMIN, "/start acme", 2);
    expect(start[1]?.text).toMatch(/^✅ start <code>acme<\/code>/);
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open again" });
    const reconnect = await ask(ADMIN, "/reconnect acme", 2);
    expect(reconnect[1]?.text).toMatch(/^✅ reconnect <code>acme<\/code>/);

    const audit = store.audit.list("acme");
    expect(audit.find((r) => r.action === "backup")?.actor).toBe("telegram:42");
    expect(audit.filter((r) => r.action === "telegram-command").map((r) => r.result.split(":")[0])).toEqual([
      "/backup acme",
      "/backups acme",
      "/stop acme",
      "/start acme",
      "/reconnect acme",
    ]);
    const [auditReply] = await ask(ADMIN, "/audit acme");
    expect(auditReply?.text).toContain("backup by telegram:42");
    // A stranger can do none of it.
    const [refused] = await ask(STRANGER, "/stop acme");
    expect(refused?.text).toBe("not authorized (your user id: 99)");
    expect(store.control.desired("acme").desired).toBe("run");
  });

  it("/restore previews the newest backup; Confirm swaps it in", async () => {
    const dir = path.join(fx.sessionsDir, "acme");
    await createPairedFolder(dir);
    const { store } = await fx.startSupervisor({
      apiRoot: api.apiRoot,
      bot: { pollTimeoutSec: 1, qrEveryMs: 60_000 },
    });
    await ask(ADMIN, "/backup acme");
    rmSync(path.join(dir, "creds.json"));
    const [preview] = await ask(ADMIN, "/restore acme");
    expect(preview?.text).toMatch(/Restore acme<\/b> from <code>\d{8}T\d{9}Z-manual\.tar\.gz<\/code>/);
    expect(existsSync(path.join(dir, "creds.json"))).toBe(false);
    const before = api.messagesFor(String(CHAT)).length;
    api.userPresses(preview as ReceivedMessage, ADMIN, "Confirm");
    const done = await waitFor(() => api.messagesFor(String(CHAT))[before], { what: "restore result" });
    expect(done.text).toMatch(/acme<\/b>: restored 1 files from/);
    expect(existsSync(path.join(dir, "creds.json"))).toBe(true);
    expect(store.audit.list("acme").find((r) => r.action === "restore")?.actor).toBe("telegram:42");
    const [none] = await ask(ADMIN, "/restore acme nope.tar.gz");
    expect(none?.text).toContain('No backup "nope.tar.gz" for acme');
  });

  it("/mute and /unmute write the same mutes store as `warden mute`, audited with the Telegram user", async () => {
    mkdirSync(path.join(fx.sessionsDir, "acme"));
    const { store } = await fx.startSupervisor({
      apiRoot: api.apiRoot,
      bot: { pollTimeoutSec: 1, qrEveryMs: 60_000 },
    });
    const before = Date.now();
    const [muted] = await ask(ADMIN, "/mute acme 2h");
    expect(muted?.text).toContain("muted for 2h");
    const mute = store.mutes.get("acme");
    expect(mute?.actor).toBe("telegram:42");
    expect(mute?.until).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
    const [unmuted] = await ask(ADMIN, "/unmute acme");
    expect(unmuted?.text).toContain("unmuted");
    expect(store.mutes.get("acme")).toBeUndefined();
    expect(store.audit.list("acme").map((r) => `${r.action}:${r.actor}`)).toEqual(
      expect.arrayContaining(["mute:telegram:42", "unmute:telegram:42"]),
    );
  });
});

describe("the QR comes to the chat", () => {
  it("sends the asked-for QR as a photo, replaces it once per rotation, deletes it once connected", async () => {
    mkdirSync(path.join(fx.sessionsDir, "newco"));
    const { store, supervisor } = await startWithWorker(100);
    api.userSends(ADMIN, ADMIN, "/qr newco"); // asked in the admin's private chat
    const photo = await waitFor(() => api.photos.find((p) => p.chatId === String(ADMIN)), {
      what: "QR photo",
      timeoutMs: 10_000,
    });
    const first = store.connections.pairing("newco")?.qr as string;
    expect(first).toMatch(/^SIM-QR:newco:1:/);
    expect(decode(photo.png)).toBe(first);
    expect(photo.caption).toContain("newco: scan in WhatsApp");
    expect(photo.caption).toContain("Valid about 20s");

    // WhatsApp rotates the QR (the worker stores the new one): the photo is replaced in place, once.
    store.connections.putQr("newco", "SIM-QR:newco:2:rotated", Date.now());
    await waitFor(() => photo.edits === 1, { what: "photo replaced" });
    await supervisor.bot?.publishQr();
    await supervisor.bot?.publishQr();
    expect(photo.edits).toBe(1);
    expect(decode(photo.png)).toBe("SIM-QR:newco:2:rotated");
    expect(api.photos).toHaveLength(1);

    // The simulated pairing completes (pairAfter): connected, the photo goes.
    await waitFor(() => store.connections.get("newco")?.state === "open", {
      what: "paired",
      timeoutMs: 15_000,
    });
    await waitFor(() => photo.deleted, { what: "photo deleted" });
    // The API records the deletion before it answers; the publisher drops its row once answered.
    await waitFor(() => store.bot.qrMessages("newco").length === 0, { what: "QR message row dropped" });
    expect(store.bot.qrMessages("newco")).toEqual([]);
  });

  it("/pair with a phone number: the pairing code replaces the QR photo in the chat", async () => {
    mkdirSync(path.join(fx.sessionsDir, "newco"));
    fx.writeCompanyConfig("newco", { simulation: { pairAfter: null } });
    await startWithWorker(100);
    api.userSends(ADMIN, ADMIN, "/qr newco");
    const photo = await waitFor(() => api.photos[0], { what: "QR photo", timeoutMs: 10_000 });
    // In the group: requested (the code goes to the private chat), then the worker's ack.
    const replies = await ask(ADMIN, "/pair newco 5511987654321", 2);
    expect(replies[0]?.text).toMatch(/pair <code>newco<\/code> requested/);
    expect(replies[0]?.text).toContain("goes to your private chat with me");
    expect(replies.map((m) => m.text)).toContainEqual(
      "✅ pair <code>newco</code>: newco pairing by code for 5511987654321 started; the code follows within seconds",
    );
    const code = await waitFor(() => api.messages.find((m) => m.text.includes("pairing code:")), {
      what: "pairing code",
    });
    expect(code.chatId).toBe(String(ADMIN));
    expect(photo.chatId).toBe(String(ADMIN));
    expect(code.text).toMatch(/<b>newco<\/b> pairing code: <code>[0-9A-F]{8}<\/code>/);
    await waitFor(() => photo.deleted, { what: "QR photo deleted" });
    const [bad] = await ask(ADMIN, "/pair newco 12ab");
    expect(bad?.text).toContain("Bad phone number");
  });

  it("a logged-out company: the QR button offers a new pairing; Confirm backs up, moves the folder aside, and the QR comes", async () => {
    const dir = path.join(fx.sessionsDir, "acme");
    await createPairedFolder(dir);
    fx.writeCompanyConfig("acme", { simulation: { pairAfter: null } });
    const { store } = await startWithWorker(100);
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    // WhatsApp logs the device out (401), recorded as the worker records it; the alert has a QR button.
    store.connections.transition(
      { company: "acme", to: "qr_required", code: 401, message: "logged out", holder: null },
      Date.now(),
    );
    const alert = await waitFor(() => api.messages.find((m) => m.text.includes("acme: qr required")), {
      what: "QR required alert",
    });
    expect(alert.buttons?.flat().map((b) => b.text)).toEqual(["Status", "Mute 1h", "QR", "Ack"]);
    const before = api.messagesFor(String(CHAT)).length;
    api.userPresses(alert, ADMIN, "QR");
    const preview = await waitFor(() => api.messagesFor(String(CHAT))[before], {
      what: "new pairing preview",
    });
    expect(preview.text).toContain("New pairing of acme");
    api.userPresses(preview, ADMIN, "Confirm");
    const photo = await waitFor(() => api.photos.find((p) => p.caption.startsWith("acme:")), {
      what: "QR photo of the new pairing",
      timeoutMs: 15_000,
    });
    expect(decode(photo.png)).toMatch(/^SIM-QR:acme:/);
    expect(photo.chatId).toBe(String(ADMIN)); // the confirmer's private chat, not the group
    expect(readdirSync(path.join(fx.home, "replaced", "acme")).length).toBeGreaterThan(0);
    expect(readdirSync(path.join(fx.home, "backups", "acme"))).toHaveLength(1);
    expect(existsSync(path.join(dir, "creds.json"))).toBe(true); // the new, unregistered identity
    const audit = store.audit.list("acme");
    expect(audit.some((r) => r.actor === "telegram:42" && r.action === "new-pairing")).toBe(true);
  });

  it("/qr in a private chat: the photo comes there; without a QR it says how to start a pairing", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    const { store } = await fx.startSupervisor({
      apiRoot: api.apiRoot,
      bot: { pollTimeoutSec: 1, qrEveryMs: 60_000 },
    });
    const [group] = await ask(ADMIN, "/qr acme");
    expect(group?.text).toContain("ask me in a private chat");
    const inPrivate = async (text: string) => {
      const before = api.messagesFor(String(ADMIN)).length;
      api.userSends(ADMIN, ADMIN, text);
      return waitFor(() => api.messagesFor(String(ADMIN))[before], { what: `answer to ${text}` });
    };
    expect((await inPrivate("/qr acme")).text).toContain("has no pairing QR right now");
    store.connections.putQr("acme", "QR-STRING-1", Date.now());
    await inPrivate("/qr acme");
    const photo = await waitFor(() => api.photos[0], { what: "QR photo" });
    expect(decode(photo.png)).toBe("QR-STRING-1");
    expect(photo.chatId).toBe(String(ADMIN));
    store.connections.putPairingCode("acme", "ABCD1234", Date.now());
    await inPrivate("/qr acme");
    const code = await waitFor(() => api.messages.find((m) => m.text.includes("ABCD1234")), { what: "code" });
    expect(code.chatId).toBe(String(ADMIN));
    await waitFor(() => photo.deleted, { what: "the QR photo gives way to the code" });
  });
});
