import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  type AuthenticationCreds,
  addTransactionCapability,
  BufferJSON,
  Curve,
  DEFAULT_CONNECTION_CONFIG,
  generateSignalPubKey,
  getNextPreKeys,
  initAuthCreds,
  newLTHashState,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
  useMultiFileAuthState,
} from "baileys";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ATOMIC_TMP_PREFIX, useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";
import { preKeyBundleOf } from "./helpers/baileys-folder.js";
import { trialCount } from "./helpers/crash-trial.js";
import { tempDir } from "./helpers/temp-dir.js";
import { waitFor } from "./helpers/wait-for.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = path.join(repoRoot, "test/fixtures/creds-burst.ts");
const silent = pino({ level: "silent" });

/** How Baileys puts a value in a file: the comparison key for "read back equal". */
const serialize = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);
type KeyType = keyof SignalDataTypeMap;

/**
 * A data set of every key type with values Baileys itself produces: pre-keys from getNextPreKeys,
 * sessions and a sender key from the signal repository (all captured from their keys.set calls),
 * an app-state-sync-key as process-message stores a key share (AppStateSyncKeyData.fromObject; its
 * id is base64 and contains "/"), and the other types in the shapes the socket writes.
 */
async function realDataSet(scratch: string): Promise<{ creds: AuthenticationCreds; data: SignalDataSet }> {
  const { state } = await useMultiFileAuthState(scratch);
  const creds = state.creds;
  creds.me = { id: "5511987654321:12@s.whatsapp.net", name: "wa-warden test" };
  const captured: SignalDataSet = {};
  const recording: SignalKeyStore = {
    get: (type, ids) => state.keys.get(type, ids),
    set: async (data) => {
      for (const [type, values] of Object.entries(data)) {
        captured[type as KeyType] = { ...captured[type as KeyType], ...values } as never;
      }
      await state.keys.set(data);
    },
  };
  const keys = addTransactionCapability(recording, silent, { maxCommitRetries: 1, delayBetweenTriesMs: 0 });
  const repository = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds, keys }, silent);
  try {
    for (const [i, jid] of ["5511900000001:2@s.whatsapp.net", "200000000000002@lid"].entries()) {
      const peer = initAuthCreds();
      await repository.injectE2ESession({
        jid,
        session: preKeyBundleOf(peer, i + 1),
      });
    }
    await repository.encryptGroupMessage({
      group: "120363025000000001@g.us",
      meId: creds.me.id,
      data: Buffer.from("hello group"),
    });
    // Pre-keys as the socket's uploadPreKeys makes them (stored through keys.set, captured above).
    const { update } = await getNextPreKeys({ creds, keys: recording }, 3);
    Object.assign(creds, update);
  } finally {
    repository.close?.();
  }
  expect(Object.keys(captured["pre-key"] ?? {})).toEqual(["1", "2", "3"]);
  expect(Object.keys(captured.session ?? {}).length).toBeGreaterThanOrEqual(2);
  // SignalDataTypeMap says Uint8Array, but libsignal's SessionRecord.serialize() gives plain JSON
  // objects ({ _sessions, version }): what real folders hold. A Uint8Array one is added below.
  for (const session of Object.values(captured.session ?? {})) expect(session).toHaveProperty("_sessions");
  expect(Object.keys(captured["sender-key"] ?? {}).length).toBe(1);

  // As process-message stores a key share: id = base64 of the key id ("AAD8/w==" has a "/").
  const syncKeyId = Buffer.from([0, 0, 0xfc, 0xff]).toString("base64");
  expect(syncKeyId).toContain("/");
  const syncKey = proto.Message.AppStateSyncKeyData.fromObject({
    keyData: randomBytes(32),
    fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 3] },
    timestamp: 1_700_000_000_000,
  });
  const data: SignalDataSet = {
    ...captured,
    // A session that is a plain Uint8Array (not a Buffer), the type SignalDataTypeMap declares.
    session: { ...captured.session, "5511900000009.0": new Uint8Array(randomBytes(96)) },
    "sender-key-memory": { "120363025000000001@g.us": { "5511900000001:2@s.whatsapp.net": true } },
    "app-state-sync-key": { [syncKeyId]: syncKey },
    "app-state-sync-version": { regular_high: { ...newLTHashState(), version: 3, hash: randomBytes(128) } },
    "lid-mapping": { "5511900000001": "200000000000002", "200000000000002_reverse": "5511900000001" },
    "device-list": { "5511900000001": ["0", "2"] },
    tctoken: { "5511900000001@s.whatsapp.net": { token: randomBytes(20), timestamp: "1700000000" } },
    "identity-key": { "5511900000001.2": generateSignalPubKey(Curve.generateKeyPair().public) },
  };
  return { creds, data };
}

/** Reads every id of `data` back through `store` and checks each value serializes identically. */
async function expectKeysEqual(store: SignalKeyStore, data: SignalDataSet): Promise<void> {
  for (const [type, values] of Object.entries(data) as [KeyType, Record<string, unknown>][]) {
    const ids = Object.keys(values);
    const read = await store.get(type, ids);
    for (const id of ids) {
      expect(read[id], `${type} ${id}`).toBeTruthy();
      expect(serialize(read[id]), `${type} ${id}`).toBe(serialize(values[id]));
    }
  }
}

function jsonFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((n) => !n.startsWith(ATOMIC_TMP_PREFIX))
    .sort();
}

describe("useAtomicMultiFileAuthState", () => {
  it("round-trips creds and every key type with real Baileys values", async () => {
    const root = tempDir();
    const { creds, data } = await realDataSet(path.join(root, "scratch"));
    const folder = path.join(root, "ours");
    const auth = await useAtomicMultiFileAuthState(folder);
    Object.assign(auth.state.creds, creds);
    await auth.saveCreds();
    await auth.state.keys.set(data);
    await auth.flush();

    const reopened = await useAtomicMultiFileAuthState(folder);
    expect(serialize(reopened.state.creds)).toBe(serialize(creds));
    expect(Buffer.isBuffer(reopened.state.creds.noiseKey.private)).toBe(true);
    await expectKeysEqual(reopened.state.keys, data);
    const [syncKeyId] = Object.keys(data["app-state-sync-key"] ?? {});
    const { [syncKeyId as string]: syncKey } = await reopened.state.keys.get("app-state-sync-key", [
      syncKeyId as string,
    ]);
    // Baileys' app-state code calls protobuf methods on it: it must be the message class again.
    expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(readdirSync(folder).filter((n) => n.startsWith(ATOMIC_TMP_PREFIX))).toEqual([]);
  });

  it("uses Baileys' file names and reads and is read by Baileys' useMultiFileAuthState", async () => {
    const root = tempDir();
    const { creds, data } = await realDataSet(path.join(root, "scratch"));

    const byBaileys = path.join(root, "by-baileys");
    const baileys = await useMultiFileAuthState(byBaileys);
    Object.assign(baileys.state.creds, creds);
    await baileys.saveCreds();
    await baileys.state.keys.set(data);

    const byUs = path.join(root, "by-us");
    const ours = await useAtomicMultiFileAuthState(byUs);
    Object.assign(ours.state.creds, creds);
    await ours.saveCreds();
    await ours.state.keys.set(data);
    await ours.flush();

    const names = jsonFiles(byBaileys);
    expect(names).toContain("creds.json");
    // ":" and "/" in ids are mapped the same way (fixFileName).
    expect(names.some((n) => n.startsWith("app-state-sync-key-") && n.includes("__"))).toBe(true);
    expect(names.length).toBe(Object.values(data).reduce((n, v) => n + Object.keys(v ?? {}).length, 1));
    expect(jsonFiles(byUs)).toEqual(names);

    // Ours reads Baileys' folder...
    const oursOnBaileys = await useAtomicMultiFileAuthState(byBaileys);
    expect(serialize(oursOnBaileys.state.creds)).toBe(serialize(creds));
    await expectKeysEqual(oursOnBaileys.state.keys, data);
    // ...and Baileys reads ours.
    const baileysOnOurs = await useMultiFileAuthState(byUs);
    expect(serialize(baileysOnOurs.state.creds)).toBe(serialize(creds));
    await expectKeysEqual(baileysOnOurs.state.keys, data);
  });

  it("deletes a key's file when it is set to null, and only that file", async () => {
    const folder = path.join(tempDir(), "acme");
    const auth = await useAtomicMultiFileAuthState(folder);
    await auth.saveCreds();
    await auth.state.keys.set({
      "pre-key": { "1": Curve.generateKeyPair(), "2": Curve.generateKeyPair() },
      "device-list": { "5511900000001:2@s.whatsapp.net": ["0", "2"] },
    });
    expect(jsonFiles(folder)).toEqual([
      "creds.json",
      "device-list-5511900000001-2@s.whatsapp.net.json",
      "pre-key-1.json",
      "pre-key-2.json",
    ]);
    // The id is mapped to the file name the same way for a delete.
    await auth.state.keys.set({
      "pre-key": { "1": null },
      "device-list": { "5511900000001:2@s.whatsapp.net": null },
    });
    expect(jsonFiles(folder)).toEqual(["creds.json", "pre-key-2.json"]);
    expect((await auth.state.keys.get("pre-key", ["1", "2"]))["1"]).toBeNull();
    // Deleting what is not there is not an error (Baileys ignores it too).
    await auth.state.keys.set({ "pre-key": { "99": null } });
  });

  it("replaces files by rename (new inode, no temp file left) and keeps the mode private", async () => {
    const folder = path.join(tempDir(), "acme");
    const auth = await useAtomicMultiFileAuthState(folder);
    await auth.saveCreds();
    const first = statSync(path.join(folder, "creds.json"));
    auth.state.creds.accountSyncCounter = 42;
    await auth.saveCreds();
    const second = statSync(path.join(folder, "creds.json"));
    // Baileys' writeFile truncates and rewrites the same inode; a rename installs a new one.
    expect(second.ino).not.toBe(first.ino);
    expect(second.mode & 0o077).toBe(0);
    expect(JSON.parse(readFileSync(path.join(folder, "creds.json"), "utf8")).accountSyncCounter).toBe(42);
    expect(readdirSync(folder)).toEqual(["creds.json"]);
  });

  it("flush() waits for writes nobody awaited (as creds.update handlers fire them)", async () => {
    const folder = path.join(tempDir(), "acme");
    const auth = await useAtomicMultiFileAuthState(folder);
    const preKeys = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [String(i + 1), Curve.generateKeyPair()]),
    );
    for (let i = 1; i <= 20; i++) {
      auth.state.creds.accountSyncCounter = i;
      void auth.saveCreds();
    }
    void auth.state.keys.set({ "pre-key": preKeys });
    await auth.flush();
    expect(JSON.parse(readFileSync(path.join(folder, "creds.json"), "utf8")).accountSyncCounter).toBe(20);
    expect(jsonFiles(folder).filter((n) => n.startsWith("pre-key-")).length).toBe(40);
    expect(readdirSync(folder).filter((n) => n.startsWith(ATOMIC_TMP_PREFIX))).toEqual([]);
  });

  it("removes leftover temp files on open and logs how many", async () => {
    const folder = path.join(tempDir(), "acme");
    const first = await useAtomicMultiFileAuthState(folder);
    await first.saveCreds();
    const creds = readFileSync(path.join(folder, "creds.json"));
    writeFileSync(path.join(folder, `${ATOMIC_TMP_PREFIX}creds.json-4242-0a1b2c3d`), '{"noiseKey":');
    writeFileSync(path.join(folder, `${ATOMIC_TMP_PREFIX}pre-key-7.json-4242-deadbeef`), "");
    writeFileSync(path.join(folder, "pre-key-1.json"), "{}");
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });

    await useAtomicMultiFileAuthState(folder, logger);

    expect(readdirSync(folder).sort()).toEqual(["creds.json", "pre-key-1.json"]);
    expect(readFileSync(path.join(folder, "creds.json")).equals(creds)).toBe(true);
    const logged = lines.map((l) => JSON.parse(l) as { removed?: number; msg: string });
    expect(logged.find((l) => l.removed !== undefined)?.removed).toBe(2);
  });

  it("does not remove the temp files of writes still running in this process", async () => {
    const folder = path.join(tempDir(), "acme");
    const old = await useAtomicMultiFileAuthState(folder);
    await old.saveCreds();
    // The previous socket of the company is still flushing when the next one opens the folder.
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 10; round++) {
      const preKeys = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [String(round * 20 + i + 1), Curve.generateKeyPair()]),
      );
      writes.push(Promise.resolve(old.state.keys.set({ "pre-key": preKeys })));
    }
    const settled = Promise.allSettled(writes);
    let opened = 0;
    for (let i = 0; i < 5; i++) {
      await useAtomicMultiFileAuthState(folder);
      opened++;
    }
    const results = await settled;
    expect(opened).toBe(5);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(jsonFiles(folder).filter((n) => n.startsWith("pre-key-")).length).toBe(200);
  });

  it("refuses a creds.json that does not parse and leaves it untouched", async () => {
    const folder = path.join(tempDir(), "acme");
    mkdirSync(folder);
    const torn = '{"noiseKey":{"private":{"type":"Buffer","data":"AAEC';
    writeFileSync(path.join(folder, "creds.json"), torn);
    await expect(useAtomicMultiFileAuthState(folder)).rejects.toThrow(/creds\.json cannot be read/);
    expect(readFileSync(path.join(folder, "creds.json"), "utf8")).toBe(torn);
    // The difference with Baileys' own version: it returns brand-new creds for the same folder (and
    // its next saveCreds would overwrite the damaged file; not called here).
    const baileys = await useMultiFileAuthState(folder);
    expect(baileys.state.creds.registered).toBe(false);
    expect(baileys.state.creds.noiseKey.private).toHaveLength(32);
    expect(readFileSync(path.join(folder, "creds.json"), "utf8")).toBe(torn);
  });

  it("a fresh folder is created with new creds and no files until the first save", async () => {
    const dir = tempDir();
    const folder = path.join(dir, "new", "acme");
    const auth = await useAtomicMultiFileAuthState(folder);
    expect(auth.state.creds.registered).toBe(false);
    expect(readdirSync(folder)).toEqual([]);
    writeFileSync(path.join(dir, "plain"), "x");
    await expect(useAtomicMultiFileAuthState(path.join(dir, "plain"))).rejects.toThrow(/not a directory/);
  });

  /*
   * kill -9 in the middle of writes. The fixture rewrites creds.json (4-10 KB, size changing each
   * time) and three pre-key files per loop, as fast as it can; it is killed at a random moment
   * 5-120 ms after its first save, then the next child reopens the same folder.
   *
   * Informative only (not asserted), measured on this machine (ext4, 2 CPUs), 2 lanes x 30 kills,
   * same fixture, same checks, kill 5-150 ms after the first save:
   * - "baileys" mode (Baileys' own useMultiFileAuthState: writeFile truncates in place), 3 runs:
   *   creds.json torn after 24, 19 and 27 of 60 kills; the next open then silently started from
   *   initAuthCreds() (a new noiseKey, i.e. the device is gone) 14, 11 and 10 times; 18 distinct
   *   torn pre-key files in the run that counted them;
   * - "atomic" mode (this module): 0 torn creds, 0 torn keys, 0 identity changes; 142 temp files
   *   were left mid-write by the kills and removed by the next open.
   */
  it("never leaves a torn creds.json or key file when the writer is killed with SIGKILL", async () => {
    const root = tempDir();
    // 2 CPUs here, ~0.7 s of start-up per child (tsx + baileys): two lanes in parallel, 12 kills
    // in `npm test`, 60 in `npm run bench:crash`.
    const lanes = 2;
    const trialsPerLane = trialCount(6, 30);
    let kills = 0;
    let leftovers = 0;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        const folder = path.join(root, `lane-${lane}`);
        let noiseKey: string | undefined;
        let counter = -1;
        let deadPid: number | undefined;
        // Key files are never rewritten (pre-key ids only grow): check each new one once.
        const checked = new Set<string>();
        for (let trial = 0; trial < trialsPerLane; trial++) {
          const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, folder], {
            cwd: repoRoot,
            stdio: ["ignore", "pipe", "pipe"],
          });
          const run = watch(child);
          await waitFor(() => run.ready || run.exited, {
            timeoutMs: 30_000,
            intervalMs: 5,
            what: `lane ${lane} ready`,
          });
          if (!run.ready) throw new Error(`creds-burst exited before ready: ${run.stderr}`);
          // The next writer's open removed what the killed one left mid-write.
          if (deadPid !== undefined) {
            expect(readdirSync(folder).filter((n) => n.includes(`-${deadPid}-`))).toEqual([]);
          }
          // The moment of the kill is what is random here; nothing waits on this delay.
          await delay(5 + Math.floor(Math.random() * 116));
          child.kill("SIGKILL");
          await waitFor(() => run.exited, { timeoutMs: 10_000, intervalMs: 5, what: "child exit" });
          expect(run.signal).toBe("SIGKILL");
          kills++;
          deadPid = child.pid;

          const names = readdirSync(folder);
          leftovers += names.filter((n) => n.startsWith(ATOMIC_TMP_PREFIX)).length;
          expect(names).toContain("creds.json");
          const creds = JSON.parse(
            readFileSync(path.join(folder, "creds.json"), "utf8"),
            BufferJSON.reviver,
          ) as AuthenticationCreds;
          expect(Buffer.isBuffer(creds.noiseKey?.private)).toBe(true);
          expect(Buffer.isBuffer(creds.signedIdentityKey?.public)).toBe(true);
          expect(Buffer.isBuffer(creds.signedPreKey?.signature)).toBe(true);
          expect(typeof creds.registrationId).toBe("number");
          // Same identity every time (never silently re-created), and no write went back in time.
          const noise = Buffer.from(creds.noiseKey.public).toString("base64");
          noiseKey ??= noise;
          expect(noise).toBe(noiseKey);
          expect(creds.accountSyncCounter).toBeGreaterThan(counter);
          counter = creds.accountSyncCounter;
          for (const name of names) {
            if (name.startsWith(ATOMIC_TMP_PREFIX) || name === "creds.json" || checked.has(name)) continue;
            checked.add(name);
            const key = JSON.parse(readFileSync(path.join(folder, name), "utf8"), BufferJSON.reviver);
            expect(Buffer.isBuffer(key.private), name).toBe(true);
          }
        }
      }),
    );
    expect(kills).toBe(lanes * trialsPerLane);
    // How many kills landed between a temp write and its rename (informative; varies per run).
    console.info(`creds-burst: ${kills} kills, ${leftovers} temp files left behind and cleaned`);
  }, 90_000);
});

/** Follows a child: ready once it printed "ready", exited with its signal. */
function watch(child: ChildProcess) {
  const run = { ready: false, exited: false, signal: null as NodeJS.Signals | null, stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes("ready")) run.ready = true;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  child.once("exit", (_code, signal) => {
    run.exited = true;
    run.signal = signal;
  });
  return run;
}

describe("edge cases of the atomic auth state", () => {
  it("refuses a creds.json that parses to null instead of starting fresh over it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "warden-auth-null-"));
    try {
      writeFileSync(path.join(dir, "creds.json"), "null");
      await expect(useAtomicMultiFileAuthState(dir)).rejects.toThrow(/creds\.json cannot be read/);
      expect(readFileSync(path.join(dir, "creds.json"), "utf8")).toBe("null");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes a key whose file name is near the file-system limit, as Baileys does", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "warden-auth-long-"));
    try {
      const { state, flush } = await useAtomicMultiFileAuthState(dir);
      const id = "x".repeat(230);
      await state.keys.set({ "lid-mapping": { [id]: "1" } });
      await flush();
      expect(readdirSync(dir)).toContain(`lid-mapping-${id}.json`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
