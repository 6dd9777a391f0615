/**
 * The fleet the bot tests share: a fleet chat with one admin, bistro's own chat with its operator,
 * acme and bistro with 10 files each, and a loopback Bot API.
 */
import { BotApiServer } from "./bot-api-server.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./fleet-fixture.js";

export const FLEET_CHAT = -1001;
export const BISTRO_CHAT = -2002;
export const ADMIN = 42;
/** Operator of bistro only. */
export const OPERATOR = 77;
export const STRANGER = 99;
/** Bot options for tests: short polls, the QR publisher's timer out of the way. */
export const BOT = { pollTimeoutSec: 1, backoffMs: 50, qrEveryMs: 60_000 };

/** Builds the fleet and starts the Bot API; close both with `fx.cleanup()` and `api.stop()`. */
export async function startBotFleet(): Promise<{ fx: FleetFixture; api: BotApiServer }> {
  // Alerts come from fresh files (setFileCount): thresholds count every file.
  const fx = new FleetFixture({
    ...COUNT_EVERY_FILE,
    telegram: { chatIds: [FLEET_CHAT], admins: [ADMIN] },
    alerts: { remindEvery: "1h", hysteresis: 10 },
  });
  fx.writeCompanyConfig("bistro", { telegram: { chatIds: [BISTRO_CHAT], operators: [OPERATOR] } });
  fx.setFileCount("acme", 10);
  fx.setFileCount("bistro", 10);
  const api = new BotApiServer();
  await api.start();
  return { fx, api };
}
