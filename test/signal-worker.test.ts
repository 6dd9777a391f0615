/**
 * Signals through a worker: the simulated driver's `decryptFailuresPerMinute` scenario
 * logs Baileys' own "failed to decrypt message" / "sent retry receipt" calls through the same
 * wrapped logger as the Baileys driver; the worker's recorder counts them into SQLite on each
 * heartbeat, and the supervisor's check raises one alert for the storming company only.
 */
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { checkSignalAlerts } from "../src/alerts/signal-alerts.js";
import { companySettings, loadConfig } from "../src/config/load.js";
import { createSignalRecorder, MINUTE } from "../src/signals/signal-recorder.js";
import { summariseSignals } from "../src/signals/signal-summary.js";
import { openStore, type Store } from "../src/store/store.js";
import { createSimulatedDriver } from "../src/worker/drivers/simulated.js";
import { Worker } from "../src/worker/worker.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture | undefined;
let store: Store | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.close();
  store?.close();
  await fx?.cleanup();
});

it("a simulated Bad MAC storm is counted per company by the worker and raises one alert", async () => {
  fx = new FleetFixture({
    workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "1s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 2 },
  });
  await createPairedFolder(path.join(fx.sessionsDir, "calm"));
  await createPairedFolder(path.join(fx.sessionsDir, "storm"));
  fx.writeCompanyConfig("storm", {
    simulation: { decryptFailuresPerMinute: 3000, decryptReason: "Bad MAC" },
  });
  const config = loadConfig(fx.configFile);
  store = openStore(path.join(fx.home, "warden.db"));
  const logger = fx.logger();
  const clock = { now: () => Date.now() };
  const signals = createSignalRecorder({ signals: store.signals, clock, logger });
  const driver = createSimulatedDriver((company) => companySettings(config, company).simulation, signals);
  worker = new Worker({
    config,
    store,
    logger,
    clock,
    instance: 0,
    instances: 1,
    holder: "test/0/1",
    pid: process.pid,
    pmId: null,
    driverFor: () => driver,
    signals,
  });
  await worker.start();
  const s = store;
  const failures = () => summariseSignals(s.signals, "storm", Date.now(), 10 * MINUTE);
  await waitFor(() => failures().decryptFailures >= 25, { what: "25 failures counted", timeoutMs: 20_000 });
  expect(Object.keys(failures().byReason)).toEqual(["Bad MAC"]);
  expect(failures().retryReceipts).toBeGreaterThan(0);
  expect(summariseSignals(s.signals, "calm", Date.now(), 10 * MINUTE).decryptFailures).toBe(0);
  // Counted, never logged one by one.
  expect(fx.logLines.filter((l) => l.msg === "failed to decrypt message")).toHaveLength(0);

  const sent: string[] = [];
  for (let i = 0; i < 3; i++)
    checkSignalAlerts(s, config, Date.now(), (_settings, company, kind) => sent.push(`${company} ${kind}`));
  expect(sent).toEqual(["storm signals-raised"]);
});
