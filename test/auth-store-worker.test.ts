/**
 * The worker on database companies: it opens the store warden-auth.json names, writes keys as rows
 * under its lease, and fails closed: a company whose database is gone or whose key is wrong is
 * stopped (auth_store_failed, a human is told) and never started as a new identity, while the
 * other companies keep running.
 */

import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { runAuthMigrate } from "../src/actions/auth-migrate.js";
import { prepareNewPairing } from "../src/actions/pairing/new-pairing.js";
import { AuthKey } from "../src/auth-store/row-cipher.js";
import { openSqliteRows } from "../src/auth-store/sqlite-rows.js";
import { loadConfig } from "../src/config/load.js";
import { scanFolderSync } from "../src/fleet/scan-folder.js";
import { authDatabaseFile } from "../src/home-layout.js";
import { openStore, type Store } from "../src/store/store.js";
import type { Worker } from "../src/worker/worker.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

const PASSPHRASE = "rows passphrase";
let key: AuthKey;
let wrongKey: AuthKey;
let fx: FleetFixture;
let store: Store;
const workers: Worker[] = [];

beforeAll(async () => {
  key = await AuthKey.derive(PASSPHRASE);
  wrongKey = await AuthKey.derive("not the passphrase");
});

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

async function toSqlite(company: string) {
  await runAuthMigrate({
    store,
    clock: { now: () => Date.now() },
    sessionsDir: fx.sessionsDir,
    company,
    to: "sqlite",
    access: { home: fx.home, passphrase: PASSPHRASE },
    actor: "test",
  });
}

function start(k: AuthKey) {
  const config = loadConfig(fx.configFile);
  const worker = createTestWorker({
    config,
    store,
    logger: fx.logger(),
    holder: "test/0/1",
    authStore: { home: fx.home, key: k, clock: { now: () => Date.now() } },
  });
  workers.push(worker);
  return worker.start();
}

describe("worker on database companies", () => {
  it("runs a sqlite company on its rows and stops the one whose database is gone, the others keep running", async () => {
    for (const c of ["acme", "gone", "plain"]) await createPairedFolder(path.join(fx.sessionsDir, c));
    store = openStore(path.join(fx.home, "warden.db"));
    await toSqlite("acme");
    await toSqlite("gone");
    const rowsBefore = scanFolderSync(path.join(fx.sessionsDir, "acme"), "acme", Date.now(), new Map(), {
      authHome: fx.home,
    });
    // The database of "gone" disappears (a volume not mounted, a file deleted).
    const goneFile = authDatabaseFile(fx.home, "gone");
    rmSync(goneFile);

    await start(key);
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    await waitFor(() => store.connections.get("plain")?.state === "open", { what: "plain open" });
    await waitFor(() => store.connections.get("gone")?.state === "auth_store_failed", {
      what: "gone stopped",
    });
    const gone = store.connections.transitionsOf("gone").at(-1);
    expect(gone?.message).toMatch(/WARDEN_ERR_AUTH_STORE_UNAVAILABLE: .*gone\.sqlite of gone does not exist/);
    // Never re-initialised: no database created, no creds.json written into the folder.
    expect(existsSync(goneFile)).toBe(false);
    expect(readdirSync(path.join(fx.sessionsDir, "gone"))).toEqual(["warden-auth.json"]);
    // acme's keys are rows; its folder holds only the store's name.
    expect(readdirSync(path.join(fx.sessionsDir, "acme"))).toEqual(["warden-auth.json"]);
    const rows = openSqliteRows(authDatabaseFile(fx.home, "acme"), { company: "acme", key });
    expect((await rows.list()).map((r) => r.name)).toEqual(expect.arrayContaining(rowsBefore.names));
    await rows.close();
  });

  it("stops a sqlite company opened with the wrong key instead of pairing it anew", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    store = openStore(path.join(fx.home, "warden.db"));
    await toSqlite("acme");
    await start(wrongKey);
    await waitFor(() => store.connections.get("acme")?.state === "auth_store_failed", {
      what: "acme stopped",
    });
    expect(store.connections.transitionsOf("acme").at(-1)?.message).toMatch(/WARDEN_ERR_AUTH_STORE_KEY/);
    expect(store.connections.pairing("acme")?.qr ?? null).toBeNull();
  });

  it("refuses a warden-auth.json it cannot read, naming the file", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    writeFileSync(path.join(fx.sessionsDir, "acme", "warden-auth.json"), '{"store":"redis"}');
    store = openStore(path.join(fx.home, "warden.db"));
    await start(key);
    await waitFor(() => store.connections.get("acme")?.state === "auth_store_failed", {
      what: "acme stopped",
    });
    expect(store.connections.transitionsOf("acme").at(-1)?.message).toMatch(
      /WARDEN_ERR_AUTH_STORE_CHOICE: .*warden-auth\.json expected/,
    );
  });

  it("a new pairing of a sqlite company keeps the store: old database with the old folder, a fresh one in use", async () => {
    await createPairedFolder(path.join(fx.sessionsDir, "acme"));
    store = openStore(path.join(fx.home, "warden.db"));
    await toSqlite("acme");
    const file = authDatabaseFile(fx.home, "acme");
    const before = openSqliteRows(file, { company: "acme", key });
    const oldCreds = (await before.read(["creds.json"])).get("creds.json");
    await before.close();
    const actions = createActionContext({
      store,
      clock: { now: () => Date.now() },
      config: loadConfig(fx.configFile),
      home: fx.home,
      backupKey: PASSPHRASE,
    });
    const prepared = await prepareNewPairing(actions, { company: "acme", actor: "test" });
    expect(readdirSync(path.join(fx.sessionsDir, "acme"))).toEqual(["warden-auth.json"]);
    // The old identity, whole (its WAL folded in), beside the old folder.
    const aside = openSqliteRows(path.join(prepared.movedAside, "acme.sqlite"), { company: "acme", key });
    expect((await aside.read(["creds.json"])).get("creds.json")?.equals(oldCreds as Buffer)).toBe(true);
    await aside.close();
    const fresh = openSqliteRows(file, { company: "acme", key });
    expect(await fresh.list()).toEqual([]);
    await fresh.close();
    // The worker pairs into the fresh database: new creds, a QR.
    await start(key);
    await waitFor(() => store.connections.get("acme")?.state === "pairing", { what: "acme pairing" });
    const now = openSqliteRows(file, { company: "acme", key });
    expect((await now.read(["creds.json"])).get("creds.json")?.equals(oldCreds as Buffer)).toBe(false);
    await now.close();
  });
});
