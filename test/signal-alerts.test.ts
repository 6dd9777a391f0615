/**
 * The decrypt-failure alert and status: a real libsignal Bad MAC storm counted by the
 * worker-side recorder into the supervisor's database raises exactly one Telegram alert per
 * company, with the reasons and hashed peers; one resolved message when the rate falls back.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { evaluateSignals } from "../src/alerts/evaluate-signals.js";
import { checkSignalAlerts } from "../src/alerts/signal-alerts.js";
import { collectStatus, renderStatusTable } from "../src/cli/status.js";
import { companySettings, loadConfig } from "../src/config/load.js";
import { wrapBaileysLogger } from "../src/signals/baileys-logger.js";
import { hashPeer } from "../src/signals/hash-peer.js";
import { createSignalRecorder, MINUTE } from "../src/signals/signal-recorder.js";
import { openStore } from "../src/store/store.js";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createParty, encryptTo, receive, startSession, tamperSessions } from "./helpers/signal-pair.js";
import { waitFor } from "./helpers/wait-for.js";

const CHAT = "-1001";
const SENDER = "5511900000001@s.whatsapp.net";
let fx: FleetFixture;
let api: BotApiServer;

beforeEach(async () => {
  fx = new FleetFixture({ telegram: { chatIds: [Number(CHAT)] }, workers: { heartbeatEvery: "200ms" } });
  api = new BotApiServer();
  await api.start();
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

/** `failures` real Bad MAC failures of one sender, decrypted by `company`'s wrapped logger. */
async function badMacStorm(
  company: string,
  failures: number,
  recorder: ReturnType<typeof createSignalRecorder>,
) {
  const root = path.join(fx.root, "parties", company);
  const alice = await createParty(path.join(root, "alice"), SENDER);
  const bob = await createParty(path.join(root, "bob"), "5511900000002@s.whatsapp.net");
  const logger = wrapBaileysLogger(fx.logger().child({ company }, { level: "warn" }), company, recorder);
  await startSession(alice, bob, 1);
  expect(await receive(bob, await encryptTo(alice, bob, "hi", "first"), logger)).toEqual({ text: "hi" });
  await tamperSessions(bob.dir);
  for (let i = 0; i < failures; i++)
    await receive(bob, await encryptTo(alice, bob, `m${i}`, `m${i}`), logger);
}

describe("decrypt-failure alerts", () => {
  it("a real Bad MAC storm raises exactly one alert for that company, with reasons and hashed peers", async () => {
    fx.setFileCount("acme", 1);
    fx.setFileCount("beta", 1);
    const { supervisor, store } = await fx.startSupervisor({ apiRoot: api.apiRoot, watch: false });
    // The worker's side: its own connection to the same database, as in production.
    const workerStore = openStore(path.join(fx.home, "warden.db"));
    const recorder = createSignalRecorder({
      signals: workerStore.signals,
      clock: { now: () => Date.now() },
      logger: fx.logger(),
    });
    try {
      await badMacStorm("acme", 25, recorder);
      await badMacStorm("beta", 5, recorder);
      recorder.flush();
      // The supervisor's own timer (after each worker watch) finds the storm...
      await waitFor(() => api.messages.length >= 1, { what: "the signal alert", timeoutMs: 15_000 });
      // ...and checking again and again sends nothing more.
      for (let i = 0; i < 3; i++) supervisor.checkSignals();
      await supervisor.dispatcher.flush(2_000);
      expect(api.messages).toHaveLength(1);
      const text = api.messages[0]?.text ?? "";
      expect(text).toContain("DECRYPT FAILURES acme: 25 in 10m");
      expect(text).toContain("By reason: Bad MAC 25");
      expect(text).toContain(`${hashPeer(SENDER, store.signals.peerSalt())} 25`);
      expect(text).not.toContain("5511900000001");
      expect(store.signals.alertState("acme")?.active).toBe(true);
      expect(store.signals.alertState("beta")?.active).toBe(false);
    } finally {
      recorder.close();
      workerStore.close();
    }
  });

  it("resolves once when the window falls below half the threshold, and not before", () => {
    const store = openStore(path.join(fx.home, "warden.db"));
    try {
      const config = loadConfig(fx.configFile);
      const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
      store.signals.add("acme", t0, [{ kind: "decrypt-failure", reason: "Bad MAC", count: 30 }]);
      const sent: string[] = [];
      const check = (at: number) =>
        checkSignalAlerts(store, config, at, (_s, company, kind) => {
          sent.push(`${company} ${kind}`);
          return 1;
        });
      check(t0 + 1_000);
      check(t0 + 5 * MINUTE);
      // 12 failures in the window: below 20, not below 10: still raised, nothing sent.
      store.signals.add("acme", t0 + 9 * MINUTE, [{ kind: "decrypt-failure", reason: "Bad MAC", count: 12 }]);
      check(t0 + 11 * MINUTE);
      expect(sent).toEqual(["acme signals-raised"]);
      check(t0 + 21 * MINUTE);
      check(t0 + 22 * MINUTE);
      expect(sent).toEqual(["acme signals-raised", "acme signals-resolved"]);
    } finally {
      store.close();
    }
  });

  it("signals.* per company: a partial override keeps the other defaults; a bad value names its key", () => {
    fx.writeCompanyConfig("acme", { signals: { alertAt: { count: 5 }, repairSessions: true } });
    const acme = companySettings(loadConfig(fx.configFile), "acme");
    expect(acme.signals).toEqual({
      alertAt: { count: 5, window: 10 * MINUTE },
      repairSessions: true,
      repairAfter: { count: 10, window: 10 * MINUTE },
    });
    fx.writeCompanyConfig("acme", { signals: { alertAt: { window: "soon" } } });
    expect(() => loadConfig(fx.configFile)).toThrow(/acme\.json.*signals\.alertAt\.window/);
  });

  it("a muted company's alert state moves without a message", () => {
    const settings = { signals: { alertAt: { count: 20, window: 10 * MINUTE } }, mutedUntil: 2_000 };
    const { state, decision } = evaluateSignals(undefined, 50, settings, 1_000);
    expect(state.active).toBe(true);
    expect(decision).toBeNull();
  });

  it("`warden status` shows the last 10 minutes; --json carries the signals object", async () => {
    fx.setFileCount("acme", 3);
    const store = openStore(path.join(fx.home, "warden.db"));
    try {
      const now = Date.now();
      const minute = Math.floor(now / MINUTE) * MINUTE;
      store.signals.add("acme", minute, [
        { kind: "decrypt-failure", reason: "Bad MAC", count: 40 },
        { kind: "decrypt-failure", reason: "No session record", count: 2 },
        { kind: "session-churn", reason: "incoming prekey bundle", count: 3 },
        { kind: "retry-receipt", reason: "retry 1", count: 42 },
      ]);
      // Older than 10 minutes: not in the status.
      store.signals.add("acme", minute - 30 * MINUTE, [
        { kind: "decrypt-failure", reason: "Bad MAC", count: 500 },
      ]);
      const rows = await collectStatus(loadConfig(fx.configFile), store, now);
      expect(rows[0]?.signals).toEqual({
        decryptFailures10m: 42,
        byReason: { "Bad MAC": 40, "No session record": 2 },
        sessionChurn10m: 3,
        retryReceipts10m: 42,
      });
      expect(renderStatusTable(rows, now, false)).toContain(
        "acme last 10m: 42 decrypt failures (Bad MAC 40, No session record 2), 3 session closes, 42 retry receipts",
      );
    } finally {
      store.close();
    }
  });
});
