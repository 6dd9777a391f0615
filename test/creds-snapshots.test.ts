import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BufferJSON, proto } from "baileys";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type WardenConfig } from "../src/config/load.js";
import { openStore, type Store } from "../src/store/store.js";
import { ATOMIC_TMP_PREFIX, useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";
import {
  createSnapshotRecorder,
  createSnapshotSealer,
  type SnapshotSealer,
  snapshotFile,
} from "../src/worker/creds-snapshots/creds-snapshot.js";
import { restoreMissingCreds } from "../src/worker/creds-snapshots/restore-missing-creds.js";
import type { Worker } from "../src/worker/worker.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

const KEY = "correct horse battery staple";
// As process-message stores a key share: the id is base64 and may contain "/" (-> "__" on disk).
const SYNC_KEY_ID = Buffer.from([0, 0, 0xfc, 0xff]).toString("base64");
const SYNC_KEY_FILE = "app-state-sync-key-AAD8__w==.json";

let fx: FleetFixture;
let store: Store;
let config: WardenConfig;
const workers: Worker[] = [];

beforeEach(() => {
  fx = new FleetFixture({
    workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "1s" },
    simulation: { connectAfter: "20ms", initialPreKeys: 5 },
  });
  config = loadConfig(fx.configFile);
  store = openStore(path.join(fx.home, "warden.db"));
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  store.close();
  await fx.cleanup();
});

const folder = (company: string) => path.join(fx.sessionsDir, company);
const read = (company: string, file: string) => readFileSync(path.join(folder(company), file));

function recorderFor(company: string, sealer: SnapshotSealer, keep = 10) {
  return createSnapshotRecorder({ store, sealer, company, keep, now: () => Date.now(), logger: fx.logger() });
}

/** The plaintext of every kept version of a file, newest first. */
async function versions(company: string, file: string, sealer: SnapshotSealer): Promise<string[]> {
  const rows = store.credsSnapshots.versions(company, file);
  return Promise.all(rows.map(async (row) => (await sealer.unseal(row)).toString("utf8")));
}

function startWorker(holder: string, backupKey?: string) {
  const worker = createTestWorker({ config, store, logger: fx.logger(), holder, backupKey });
  workers.push(worker);
  return worker;
}

const states = (company: string) =>
  store.connections.transitionsOf(company).map((t) => (t.code ? `${t.to}:${t.code}` : t.to));

/** A paired folder with one app-state sync key, as a linked device has after its first sync. */
async function pairedFolderWithSyncKey(company: string): Promise<void> {
  await createPairedFolder(folder(company));
  const { state, flush } = await useAtomicMultiFileAuthState(folder(company));
  await state.keys.set({
    "app-state-sync-key": {
      [SYNC_KEY_ID]: proto.Message.AppStateSyncKeyData.fromObject({
        keyData: randomBytes(32),
        fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0] },
        timestamp: 1_700_000_000_000,
      }),
    },
    "app-state-sync-version": { regular_high: { version: 3, hash: randomBytes(128), indexValueMap: {} } },
  });
  await flush();
}

describe("snapshots of auth state writes", () => {
  it("adds a version for every creds.json change, none for identical content, and keeps the newest N", async () => {
    const sealer = createSnapshotSealer();
    const recorder = recorderFor("acme", sealer, 3);
    const auth = await useAtomicMultiFileAuthState(folder("acme"), fx.logger(), { onWrite: recorder.record });
    // Not paired yet: nothing worth restoring (a QR is needed either way).
    await auth.saveCreds();
    await auth.flush();
    expect(store.credsSnapshots.versions("acme", "creds.json")).toEqual([]);

    auth.state.creds.me = { id: "5511987654321:1@s.whatsapp.net", name: "acme" };
    await auth.saveCreds();
    await auth.saveCreds();
    await auth.flush();
    expect(await versions("acme", "creds.json", sealer)).toEqual([read("acme", "creds.json").toString()]);

    for (let i = 2; i <= 5; i++) {
      auth.state.creds.nextPreKeyId = i;
      await auth.saveCreds();
    }
    await auth.flush();
    const kept = await versions("acme", "creds.json", sealer);
    expect(kept.map((text) => JSON.parse(text).nextPreKeyId)).toEqual([5, 4, 3]);
    expect(kept[0]).toBe(read("acme", "creds.json").toString());
    expect(store.credsSnapshots.latest("acme", "creds.json")?.encrypted).toBe(false);
  });

  it("snapshots app-state-sync-key files, never app-state-sync-version or other keys", async () => {
    const sealer = createSnapshotSealer(KEY);
    const recorder = recorderFor("acme", sealer);
    const auth = await useAtomicMultiFileAuthState(folder("acme"), fx.logger(), { onWrite: recorder.record });
    await auth.state.keys.set({
      "app-state-sync-key": {
        [SYNC_KEY_ID]: proto.Message.AppStateSyncKeyData.fromObject({ keyData: randomBytes(32) }),
      },
      "app-state-sync-version": { regular: { version: 1, hash: randomBytes(128), indexValueMap: {} } },
      "pre-key": { "1": { public: randomBytes(32), private: randomBytes(32) } },
      session: { "5511900000001.0": randomBytes(64) },
    });
    await auth.flush();
    expect(store.credsSnapshots.files("acme")).toEqual([SYNC_KEY_FILE]);
    expect(await versions("acme", SYNC_KEY_FILE, sealer)).toEqual([read("acme", SYNC_KEY_FILE).toString()]);
  });

  it("never fails a write because its snapshot failed, and says so in the log", async () => {
    const auth = await useAtomicMultiFileAuthState(folder("acme"), fx.logger(), {
      onWrite: async () => {
        throw new Error("database is locked");
      },
    });
    auth.state.creds.me = { id: "5511987654321:1@s.whatsapp.net", name: "acme" };
    await expect(auth.saveCreds()).resolves.toBeUndefined();
    await auth.flush();
    expect(JSON.parse(read("acme", "creds.json").toString()).me.name).toBe("acme");
    expect(fx.logLines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: expect.stringContaining(
          "Snapshot of creds.json failed (the write succeeded): database is locked",
        ),
      }),
    );
  });
});

describe("sealed snapshots", () => {
  const creds = Buffer.from(
    JSON.stringify(
      { me: { id: "5511987654321:1@s.whatsapp.net", name: "acme" }, noiseKey: { private: randomBytes(32) } },
      BufferJSON.replacer,
    ),
  );

  it("stores no plaintext, reuses one salt per sealer, and opens with the right key only", async () => {
    const sealer = createSnapshotSealer(KEY);
    expect(await snapshotFile(store, sealer, "acme", "creds.json", creds, 10, 1_000)).toBe(true);
    // The same bytes again: no new version.
    expect(await snapshotFile(store, sealer, "acme", "creds.json", creds, 10, 2_000)).toBe(false);
    const next = Buffer.from(creds.toString().replace('"acme"', '"acme2"'));
    expect(await snapshotFile(store, sealer, "acme", "creds.json", next, 10, 3_000)).toBe(true);
    const [newest, oldest] = store.credsSnapshots.versions("acme", "creds.json");
    if (!newest || !oldest) throw new Error("two versions expected");
    for (const row of [newest, oldest]) {
      expect(row.encrypted).toBe(true);
      expect(row.data.subarray(0, 5).toString("ascii")).toBe("WWSN1");
      expect(row.data.includes(Buffer.from("5511987654321"))).toBe(false);
      expect(row.data.includes(Buffer.from('"noiseKey"'))).toBe(false);
    }
    // One scrypt derivation per sealer: every blob it seals carries the same salt, a fresh IV.
    expect(newest.data.subarray(5, 21)).toEqual(oldest.data.subarray(5, 21));
    expect(newest.data.subarray(21, 33)).not.toEqual(oldest.data.subarray(21, 33));

    // Another process with the same key (another salt of its own) opens both.
    const reader = createSnapshotSealer(KEY);
    expect(await reader.unseal(newest)).toEqual(next);
    expect(await reader.unseal(oldest)).toEqual(creds);

    await expect(createSnapshotSealer("wrong key").unseal(newest)).rejects.toThrow(
      `Snapshot #${newest.id} of acme/creds.json cannot be opened: wrong WARDEN_BACKUP_KEY, or the stored bytes were altered`,
    );
    await expect(createSnapshotSealer().unseal(newest)).rejects.toThrow(
      "of acme/creds.json cannot be opened: it is encrypted and WARDEN_BACKUP_KEY is not set",
    );
  });

  it.each([
    ["the salt", 10],
    ["the iv", 25],
    ["the ciphertext", 40],
    ["the tag", -1],
  ])("detects one flipped byte in %s", async (_where, at) => {
    const sealer = createSnapshotSealer(KEY);
    await snapshotFile(store, sealer, "acme", "creds.json", creds, 10, 1_000);
    const row = store.credsSnapshots.latest("acme", "creds.json");
    if (!row) throw new Error("a version expected");
    const data = Buffer.from(row.data);
    const index = at < 0 ? data.length + at : at;
    data[index] = (data[index] ?? 0) ^ 0x01;
    await expect(sealer.unseal({ ...row, data })).rejects.toThrow(
      /Snapshot #\d+ of acme\/creds\.json cannot be opened: wrong WARDEN_BACKUP_KEY, or the stored bytes were altered/,
    );
  });

  it("detects a plain snapshot whose bytes no longer match their sha256", async () => {
    const sealer = createSnapshotSealer();
    await snapshotFile(store, sealer, "acme", "creds.json", creds, 10, 1_000);
    const row = store.credsSnapshots.latest("acme", "creds.json");
    if (!row) throw new Error("a version expected");
    const data = Buffer.from(row.data);
    data[3] = (data[3] ?? 0) ^ 0x01;
    await expect(sealer.unseal({ ...row, data })).rejects.toThrow(/do not match the recorded sha256/);
  });
});

describe("restoring a missing creds.json", () => {
  const paired = (name: string) =>
    Buffer.from(JSON.stringify({ me: { id: "5511987654321:1@s.whatsapp.net", name }, registered: true }));

  it("uses the newest version that opens: one sealed with another key is skipped", async () => {
    const mine = createSnapshotSealer(KEY);
    await snapshotFile(store, mine, "acme", "creds.json", paired("old"), 10, 1_000);
    await snapshotFile(
      store,
      createSnapshotSealer("other key"),
      "acme",
      "creds.json",
      paired("new"),
      10,
      2_000,
    );
    fx.setFileCount("acme", 0);
    const outcome = await restoreMissingCreds({
      store,
      sealer: mine,
      company: "acme",
      dir: folder("acme"),
      actor: "worker:test",
      now: 3_000,
    });
    expect(outcome).toMatchObject({ status: "restored", files: ["creds.json"], snapshotAt: 1_000 });
    expect(read("acme", "creds.json")).toEqual(paired("old"));
    expect(statSync(path.join(folder("acme"), "creds.json")).mode & 0o777).toBe(0o600);
    expect(store.audit.list("acme")).toEqual([
      expect.objectContaining({
        actor: "worker:test",
        action: "restore-creds",
        ok: true,
        result: expect.stringContaining(
          "Restored creds.json from the creds snapshot of 1970-01-01T00:00:01.000Z",
        ),
        detail: expect.objectContaining({ files: ["creds.json"], snapshotAt: 1_000 }),
      }),
    ]);
  });

  it("records a failed audit row and writes nothing when no version opens", async () => {
    await snapshotFile(store, createSnapshotSealer(KEY), "acme", "creds.json", paired("a"), 10, 1_000);
    fx.setFileCount("acme", 0);
    const outcome = await restoreMissingCreds({
      store,
      sealer: createSnapshotSealer("wrong key"),
      company: "acme",
      dir: folder("acme"),
      actor: "worker:test",
      now: 2_000,
    });
    expect(outcome.status).toBe("failed");
    expect(existsSync(path.join(folder("acme"), "creds.json"))).toBe(false);
    expect(store.audit.list("acme")).toEqual([
      expect.objectContaining({
        ok: false,
        action: "restore-creds",
        result: expect.stringMatching(
          /^creds\.json is missing and none of its 1 snapshot\(s\) could be opened: Snapshot #\d+ of acme\/creds\.json cannot be opened: wrong WARDEN_BACKUP_KEY/,
        ),
      }),
    ]);
  });

  it("never writes over an existing creds.json, even one that does not parse, nor over an existing key file", async () => {
    const sealer = createSnapshotSealer();
    await snapshotFile(store, sealer, "acme", "creds.json", paired("snap"), 10, 1_000);
    await snapshotFile(store, sealer, "acme", SYNC_KEY_FILE, Buffer.from('{"keyData":"snap"}'), 10, 1_000);
    fx.setFileCount("acme", 0);
    const restore = () =>
      restoreMissingCreds({
        store,
        sealer,
        company: "acme",
        dir: folder("acme"),
        actor: "worker:test",
        now: 2_000,
      });

    for (const existing of ['{"me":{"id":"torn', JSON.stringify({ me: { id: "another" } })]) {
      writeFileSync(path.join(folder("acme"), "creds.json"), existing);
      expect(await restore()).toEqual({ status: "present" });
      expect(read("acme", "creds.json").toString()).toBe(existing);
    }
    expect(store.audit.list("acme")).toEqual([]);

    // creds.json missing, the key file present with other bytes: only creds.json comes back.
    rmSync(path.join(folder("acme"), "creds.json"));
    writeFileSync(path.join(folder("acme"), SYNC_KEY_FILE), '{"keyData":"mine"}');
    expect(await restore()).toMatchObject({ status: "restored", files: ["creds.json"] });
    expect(read("acme", SYNC_KEY_FILE).toString()).toBe('{"keyData":"mine"}');
    expect(read("acme", "creds.json")).toEqual(paired("snap"));
  });

  it("does nothing without a snapshot", async () => {
    fx.setFileCount("newco", 0);
    const outcome = await restoreMissingCreds({
      store,
      sealer: createSnapshotSealer(KEY),
      company: "newco",
      dir: folder("newco"),
      actor: "worker:test",
      now: 1_000,
    });
    expect(outcome).toEqual({ status: "no-snapshot" });
    expect(existsSync(path.join(folder("newco"), "creds.json"))).toBe(false);
    expect(store.audit.list()).toEqual([]);
  });
});

describe("worker with creds snapshots (simulated driver)", () => {
  it("restores a deleted creds.json byte for byte, records it, and connects with the same identity", async () => {
    await pairedFolderWithSyncKey("acme");
    const before = JSON.parse(read("acme", "creds.json").toString());
    const first = startWorker("test/0/1", KEY);
    await first.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    await first.close();
    // On connect (as found on disk), then after the driver's pre-key upload moved the counters.
    const sealer = createSnapshotSealer(KEY);
    const kept = await versions("acme", "creds.json", sealer);
    expect(kept.map((text) => JSON.parse(text).nextPreKeyId)).toEqual([6, 1]);
    const lastGood = read("acme", "creds.json");
    expect(kept[0]).toBe(lastGood.toString());
    expect(store.credsSnapshots.files("acme")).toEqual([SYNC_KEY_FILE, "creds.json"]);
    const syncKey = read("acme", SYNC_KEY_FILE);

    for (const name of ["creds.json", SYNC_KEY_FILE, "app-state-sync-version-regular_high.json"]) {
      rmSync(path.join(folder("acme"), name));
    }
    const second = startWorker("test/0/2", KEY);
    await second.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open again" });

    expect(read("acme", "creds.json")).toEqual(lastGood);
    expect(read("acme", SYNC_KEY_FILE)).toEqual(syncKey);
    // Never snapshotted (rebuilt by a resync), so not restored.
    expect(existsSync(path.join(folder("acme"), "app-state-sync-version-regular_high.json"))).toBe(false);
    const after = JSON.parse(read("acme", "creds.json").toString());
    expect(after.me).toEqual(before.me);
    expect(after.noiseKey).toEqual(before.noiseKey);
    expect(after.signedIdentityKey).toEqual(before.signedIdentityKey);
    // Straight to open: no pairing, no QR.
    expect(states("acme")).toEqual(["connecting", "open", "offline", "connecting", "open"]);
    expect(store.connections.pairing("acme")).toBeUndefined();

    const [row, ...others] = store.audit.list("acme");
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      actor: "worker:test/0/2",
      action: "restore-creds",
      ok: true,
      result: expect.stringContaining(`Restored creds.json, ${SYNC_KEY_FILE} from the creds snapshot of`),
      detail: { files: ["creds.json", SYNC_KEY_FILE], snapshotAt: expect.any(Number) },
    });
    expect(fx.logLines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining("acme had no creds.json: restored"),
      }),
    );
    expect(readdirSync(folder("acme")).filter((n) => n.startsWith(ATOMIC_TMP_PREFIX))).toEqual([]);
  });

  it("restores before a reconnect of a running session too (the auth state reads creds.json again)", async () => {
    await createPairedFolder(folder("acme"));
    const worker = startWorker("test/0/1");
    await worker.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    const lastGood = read("acme", "creds.json");
    rmSync(path.join(folder("acme"), "creds.json"));
    const id = store.control.request("acme", "reconnect", {}, "test", Date.now());
    await waitFor(() => store.control.get(id)?.doneAt, { what: "reconnect acknowledged" });
    await waitFor(() => states("acme").filter((s) => s === "open").length === 2, { what: "reopened" });
    expect(read("acme", "creds.json")).toEqual(lastGood);
    expect(store.audit.list("acme")).toEqual([
      expect.objectContaining({ actor: "worker:test/0/1", action: "restore-creds", ok: true }),
    ]);
    expect(store.connections.pairing("acme")).toBeUndefined();
  });

  it("pairs a company without creds and snapshots as before: nothing restored, no audit row", async () => {
    fx.setFileCount("newco", 0);
    const worker = startWorker("test/0/1", KEY);
    await worker.start();
    await waitFor(() => store.connections.get("newco")?.state === "pairing", { what: "newco pairing" });
    expect(store.audit.list()).toEqual([]);
    // The unpaired creds.json the driver wrote is not worth a version.
    expect(store.credsSnapshots.files("newco")).toEqual([]);
  });

  it("with another key, records the failed restore, pairs again, and keeps the paired versions", async () => {
    await createPairedFolder(folder("acme"));
    const first = startWorker("test/0/1", KEY);
    await first.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    await first.close();
    const keptIds = store.credsSnapshots.versions("acme", "creds.json").map((r) => r.id);
    expect(keptIds.length).toBe(2);

    rmSync(path.join(folder("acme"), "creds.json"));
    const second = startWorker("test/0/2", "a different key");
    await second.start();
    await waitFor(() => store.connections.get("acme")?.state === "pairing", { what: "acme pairing" });
    expect(store.audit.list("acme")).toEqual([
      expect.objectContaining({
        actor: "worker:test/0/2",
        action: "restore-creds",
        ok: false,
        result: expect.stringContaining(
          "creds.json is missing and none of its 2 snapshot(s) could be opened",
        ),
      }),
    ]);
    // The fresh, unpaired creds.json of the QR loop did not push the paired identity out.
    expect(store.credsSnapshots.versions("acme", "creds.json").map((r) => r.id)).toEqual(keptIds);
  });

  it("tries a failed restore once per session, not before every new socket", async () => {
    // No pre-key upload: the unpaired socket writes no creds.json, so each new socket finds none.
    fx.writeCompanyConfig("acme", { simulation: { initialPreKeys: 0 } });
    config = loadConfig(fx.configFile);
    await createPairedFolder(folder("acme"));
    const first = startWorker("test/0/1", KEY);
    await first.start();
    await waitFor(() => store.connections.get("acme")?.state === "open", { what: "acme open" });
    await first.close();
    rmSync(path.join(folder("acme"), "creds.json"));

    const second = startWorker("test/0/2", "a different key");
    await second.start();
    await waitFor(() => store.connections.get("acme")?.state === "pairing", { what: "acme pairing" });
    // A new socket of the same session (as after each QR timeout) does not try again.
    const id = store.control.request("acme", "reconnect", {}, "test", Date.now());
    await waitFor(() => store.control.get(id)?.doneAt, { what: "reconnect acknowledged" });
    await waitFor(() => states("acme").at(-1) === "pairing" && states("acme").includes("reconnecting"), {
      what: "pairing again",
    });
    expect(existsSync(path.join(folder("acme"), "creds.json"))).toBe(false);
    expect(store.audit.list("acme").map((r) => [r.action, r.ok])).toEqual([["restore-creds", false]]);
  });
});
