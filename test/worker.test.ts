import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type WardenConfig } from "../src/config/load.js";
import { openStore, type Store } from "../src/store/store.js";
import type { Worker } from "../src/worker/worker.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture;
let store: Store;
let config: WardenConfig;
const workers: Worker[] = [];

function startWorker(holder = "test/0/1") {
  const worker = createTestWorker({ config, store, logger: fx.logger(), holder });
  workers.push(worker);
  return worker;
}

const states = (company: string) =>
  store.connections.transitionsOf(company).map((t) => (t.code ? `${t.to}:${t.code}` : t.to));

beforeEach(() => {
  fx = new FleetFixture({
    workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "1s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 5 },
  });
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  store?.close();
  await fx.cleanup();
});

async function setup(overrides: Record<string, Record<string, unknown>> = {}) {
  for (const [company, override] of Object.entries(overrides)) fx.writeCompanyConfig(company, override);
  config = loadConfig(fx.configFile);
  store = openStore(path.join(fx.home, "warden.db"));
}

describe("worker with the simulated driver", () => {
  it("connects paired companies, records every transition, and recovers from a 428 with backoff", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    await createPairedFolder(path.join(fx.sessionsDir, "flaky"));
    await setup({ flaky: { simulation: { disconnectAfter: "100ms", disconnectCode: 428, recover: true } } });
    const worker = startWorker();
    await worker.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    await waitFor(() => states("flaky").filter((s) => s === "open").length >= 2, { what: "flaky reopened" });
    expect(states("acme")).toEqual(["connecting", "open"]);
    expect(states("flaky").slice(0, 4)).toEqual(["connecting", "open", "reconnecting:428", "open"]);
    expect(store.leases.get("acme")?.holder).toBe("test/0/1");
    // Pre-keys written with Baileys' functions during the first start.
    const creds = JSON.parse(readFileSync(path.join(fx.sessionsDir, "acme", "creds.json"), "utf8"));
    expect(creds.nextPreKeyId).toBe(6);
  });

  it.each([
    [440, "replaced"],
    [401, "qr_required"],
    [403, "forbidden"],
    [405, "outdated_client"],
  ])(
    "stops after %s (%s) instead of reconnecting, and the supervisor reports it once",
    async (code, state) => {
      await createPairedFolder(path.join(fx.sessionsDir, "acme"));
      await setup({
        acme: { simulation: { disconnectAfter: "50ms", disconnectCode: code, recover: false } },
      });
      const worker = startWorker();
      await worker.start();
      await waitFor(() => store.connections.get("acme")?.state === state, { what: state });
      expect(states("acme")).toEqual(["connecting", "open", `${state}:${code}`]);
      const { watchWorkers } = await import("../src/supervisor/worker-watch.js");
      const notices = await watchWorkers(
        store,
        config,
        { now: () => Date.now() },
        fx.logger(),
        async () => undefined,
      );
      expect(notices.map((n) => n.kind)).toEqual([`connection-${state}`]);
      expect(
        await watchWorkers(store, config, { now: () => Date.now() }, fx.logger(), async () => undefined),
      ).toEqual([]);
      // Nothing was deleted.
      expect(readFileSync(path.join(fx.sessionsDir, "acme", "creds.json"), "utf8")).toContain("registered");
    },
  );

  it("pairs a company without creds: QR kept in SQLite, then 515 and open", async () => {
    fx.setFileCount("newco", 0);
    await setup({ newco: { simulation: { pairAfter: "150ms" } } });
    const worker = startWorker();
    await worker.start();
    await waitFor(() => store.connections.pairing("newco")?.qr, { what: "QR stored" });
    expect(store.connections.get("newco")?.state).toBe("pairing");
    await waitFor(() => store.connections.get("newco")?.state === "open", { what: "open after pairing" });
    expect(states("newco")).toEqual(["connecting", "pairing", "reconnecting:515", "open"]);
    expect(store.connections.pairing("newco")).toBeUndefined();
  });

  it("answers control requests: stop (stays stopped, lease released), start, reconnect", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    await setup();
    const worker = startWorker();
    await worker.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "open" });
    const ask = async (action: "stop" | "start" | "reconnect") => {
      const id = store.control.request("acme", action, {}, "test", Date.now());
      return waitFor(() => store.control.get(id)?.doneAt && store.control.get(id), {
        what: `${action} acknowledged`,
      });
    };
    expect(await ask("stop")).toMatchObject({ ok: true, pickedBy: "test/0/1" });
    expect(store.connections.get("acme")?.state).toBe("stopped");
    expect(store.leases.get("acme")).toBeUndefined();
    // A heartbeat (reconcile) later, it is still stopped.
    await worker.heartbeat();
    expect(store.connections.get("acme")?.state).toBe("stopped");
    expect(await ask("start")).toMatchObject({ ok: true });
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "open again" });
    expect(await ask("reconnect")).toMatchObject({ ok: true, result: "acme reconnecting" });
    await waitFor(() => states("acme").at(-1) === "open" && states("acme").length === 7, {
      what: "reopened",
    });
    expect(states("acme")).toEqual([
      "connecting",
      "open",
      "stopped",
      "connecting",
      "open",
      "reconnecting",
      "open",
    ]);
    const bad = store.control.request("nosuch", "start", {}, "test", Date.now());
    await waitFor(() => store.control.get(bad)?.doneAt, { what: "unknown company answered" });
    expect(store.control.get(bad)).toMatchObject({
      ok: false,
      result: expect.stringContaining("Unknown company"),
    });
  });

  it("never lets a second worker connect a company the first one holds", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    await setup();
    const first = startWorker("test/0/1");
    await first.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "open" });
    const second = startWorker("test/0/2");
    await second.start();
    expect(second.companies).toEqual([]);
    await first.close();
    expect(store.connections.get("acme")?.state).toBe("offline");
    // The first released its lease on close: the second takes the company at its next heartbeat.
    await second.heartbeat();
    await waitFor(() => store.connections.get("acme")?.state === "open", {
      what: "open under the second worker",
    });
    const history = store.leases.history();
    expect(history.map((h) => [h.holder, h.releaseReason])).toEqual([
      ["test/0/1", "worker stopped"],
      ["test/0/2", null],
    ]);
    expect(history[1]?.acquiredAt).toBeGreaterThanOrEqual(history[0]?.releasedAt ?? Number.POSITIVE_INFINITY);
  });
});

describe("worker restarts", () => {
  it("does not reconnect a replaced company on restart; warden start does", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    await setup({ acme: { simulation: { disconnectAfter: "50ms", disconnectCode: 440, recover: true } } });
    const first = startWorker("test/0/1");
    await first.start();
    await waitFor(() => store.connections.get("acme")?.state === "replaced", { what: "replaced" });
    await first.close();
    const second = startWorker("test/0/2");
    await second.start();
    expect(second.companies).toEqual([]);
    expect(store.connections.get("acme")?.state).toBe("replaced");
    const id = store.control.request("acme", "start", {}, "test", Date.now());
    await waitFor(() => store.control.get(id)?.doneAt, { what: "start acknowledged" });
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "open after start" });
  });
});
