/**
 * What the bot tells an operator is true and complete: /health counts the workers `warden health`
 * counts, the fleet /status shows a network outage, mistyped commands and companies get a
 * did-you-mean (only among the asker's companies), and an answer Telegram refuses without a
 * description is named and replaced by a short text saying so.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTelegramApi } from "../src/alerts/notifiers/telegram-client.js";
import { describeTelegramError, FailureLog } from "../src/alerts/notifiers/telegram-failure.js";
import { loadConfig } from "../src/config/load.js";
import { fleetHealth } from "../src/http/fleet-view.js";
import { BotApiServer, type ReceivedMessage } from "./helpers/bot-api-server.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

const FLEET_CHAT = -1001;
const BISTRO_CHAT = -2002;
const ADMIN = 42;
const OPERATOR = 77; // operator of bistro only
const BOT = { pollTimeoutSec: 1, backoffMs: 50, qrEveryMs: 60_000 };

let fx: FleetFixture;
let api: BotApiServer;

beforeEach(async () => {
  fx = new FleetFixture({ telegram: { chatIds: [FLEET_CHAT], admins: [ADMIN] } });
  fx.writeCompanyConfig("bistro", { telegram: { chatIds: [BISTRO_CHAT], operators: [OPERATOR] } });
  fx.setFileCount("acme", 10);
  fx.setFileCount("bistro", 10);
  api = new BotApiServer();
  await api.start();
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

async function ask(chat: number, user: number, text: string): Promise<ReceivedMessage> {
  const before = api.messagesFor(String(chat)).length;
  api.userSends(chat, user, text);
  return waitFor(() => api.messagesFor(String(chat))[before], {
    what: `answer to ${text}`,
    timeoutMs: 15_000,
  });
}

describe("the bot tells the truth", () => {
  it("/health counts workers as warden health does: stopped workers of earlier starts are not counted", async () => {
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    const now = Date.now();
    // Three `npm start`s: two earlier workers stopped cleanly, one runs.
    for (const [i, holder] of ["w-old-1", "w-old-2", "w-now"].entries())
      store.workers.register({ holder, instance: 0, pid: 1000 + i, pmId: i }, now - (3 - i) * 1000);
    store.workers.setStatus("w-old-1", "stopped", now - 2500);
    store.workers.setStatus("w-old-2", "stopped", now - 1500);
    store.workers.heartbeat("w-now", now);
    const health = await ask(FLEET_CHAT, ADMIN, "/health");
    expect(health.text).toContain("Workers: 1 alive (heartbeating) of 1 running");
    const cli = fleetHealth({ store, config: () => loadConfig(fx.configFile), now: () => Date.now() });
    expect(cli.workers).toEqual({ alive: 1, registered: 1 });
  });

  it("the fleet /status names a network outage first", async () => {
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    store.ladder.startOutage("probe to g.whatsapp.net:443 failed", 2, Date.now() - 5 * 60_000);
    const status = await ask(FLEET_CHAT, ADMIN, "/status");
    expect(status.text.split("\n")[0]).toMatch(
      /^🌐 <b>Network outage<\/b> since 5m.* \(probe to g\.whatsapp\.net:443 failed\): 2 companies down, cleanups wait$/,
    );
  });

  it("a mistyped command or company gets a did-you-mean, among the asker's companies only", async () => {
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    expect((await ask(FLEET_CHAT, ADMIN, "/stauts")).text).toBe(
      "Unknown command /stauts; did you mean /status? /help lists them.",
    );
    expect((await ask(FLEET_CHAT, ADMIN, "/status acmee")).text).toBe(
      "No company <code>acmee</code> that you may command here; /status lists yours; did you mean <code>acme</code>?",
    );
    // bistro's operator may see bistro only: "acmee" suggests nothing (acme is not theirs).
    const theirs = await ask(BISTRO_CHAT, OPERATOR, "/status acmee");
    expect(theirs.text).not.toContain(">acme<");
    expect(theirs.text).not.toContain("did you mean");
    expect((await ask(BISTRO_CHAT, OPERATOR, "/status bistr")).text).toContain(
      "did you mean <code>bistro</code>?",
    );
  });

  it("an answer refused without a description is named in the log and replaced by a short text", async () => {
    await fx.startSupervisor({ apiRoot: api.apiRoot, bot: BOT });
    api.refuseWithoutDescription("sendMessage", { count: 1, chatId: String(FLEET_CHAT) });
    const reply = await ask(FLEET_CHAT, ADMIN, "/status");
    expect(reply.text).toBe(
      "⚠️ The answer could not be sent: Telegram refused sendMessage (HTTP 400): no description",
    );
    const logged = fx.logLines.map((l) => String(l.msg));
    expect(logged).toContain(
      `Could not answer in chat ${FLEET_CHAT}: Telegram refused sendMessage (HTTP 400): no description`,
    );
    expect(logged.join("\n")).not.toContain("undefined");
  });
});

describe("Telegram failures are named", () => {
  it("method, HTTP status and 'no description' for a bare {ok:false}; network failures name the method", async () => {
    api.refuseWithoutDescription("getChat", { status: 502 });
    const client = createTelegramApi({ token: "1:T", apiRoot: api.apiRoot });
    const refused = await client.getChat({ chat_id: 5 }).catch((err: unknown) => err);
    expect(describeTelegramError(refused)).toBe("Telegram refused getChat (HTTP 502): no description");
    await api.stop();
    const down = await client.getMe().catch((err: unknown) => err);
    expect(describeTelegramError(down)).toMatch(/^network failed on getMe: .*ECONNREFUSED/);
    await api.start();
  });

  it("a failure repeated every second is logged once a minute, with how many times it happened", () => {
    const lines: string[] = [];
    let now = 0;
    const log = new FailureLog({ warn: ((_: unknown, msg: string) => lines.push(msg)) as never }, () => now);
    for (; now < 60_000; now += 1_000) log.report("newco", "QR photo update of newco failed: X");
    expect(lines).toEqual(["QR photo update of newco failed: X"]);
    log.report("newco", "QR photo update of newco failed: X");
    expect(lines).toEqual([
      "QR photo update of newco failed: X",
      "QR photo update of newco failed: X (failed 60 times in the last 60s)",
    ]);
    log.clear("newco");
    now += 1_000;
    log.report("newco", "again");
    expect(lines.at(-1)).toBe("again");
  });
});
