import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BufferJSON, encodeWAMessage, proto } from "baileys";
import Database from "better-sqlite3";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabaseAuthState } from "../src/auth-store/database-auth-state.js";
import { AuthKey } from "../src/auth-store/row-cipher.js";
import { openSqliteRows } from "../src/auth-store/sqlite-rows.js";
import { writeStoreChoice } from "../src/auth-store/store-choice.js";
import { checkAuthStores } from "../src/cli/doctor-auth-stores.js";
import type { CompanyStatus } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { ErrorCodes } from "../src/errors.js";
import { FleetScanner } from "../src/fleet/fleet-scanner.js";
import type { FolderSnapshot } from "../src/fleet/scan-folder.js";
import { authDatabaseFile } from "../src/home-layout.js";
import { killAuthBurst } from "./helpers/auth-burst.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { trialCount } from "./helpers/crash-trial.js";
import { runCli } from "./helpers/run-cli.js";
import { createParty, encryptTo, type OpenAuth, receive, startSession } from "./helpers/signal-pair.js";
import { tempDir } from "./helpers/temp-dir.js";
import { waitFor } from "./helpers/wait-for.js";

const silent = pino({ level: "silent" });
const clock = { now: () => Date.now() };
let key: AuthKey;
let otherKey: AuthKey;

beforeAll(async () => {
  key = await AuthKey.derive("correct horse battery staple");
  otherKey = await AuthKey.derive("another passphrase");
});

/** Opens `dir`/auth.sqlite as a Baileys auth state (the test's company is the folder's name). */
const sqliteAuth =
  (k: () => AuthKey): OpenAuth =>
  async (dir) => {
    const rows = openSqliteRows(path.join(dir, "auth.sqlite"), {
      company: path.basename(dir),
      key: k(),
      create: true,
    });
    return openDatabaseAuthState(rows, { clock, logger: silent });
  };

describe("sqlite auth store with real Baileys", () => {
  it("carries a session, a pre-key message and a group sender key like a folder company", async () => {
    const root = tempDir();
    const alice = await createParty(path.join(root, "alice"), "111@s.whatsapp.net"); // folder store
    const bob = await createParty(
      path.join(root, "bob"),
      "222@s.whatsapp.net",
      5,
      sqliteAuth(() => key),
    );

    await startSession(alice, bob, 2);
    const first = await encryptTo(alice, bob, "hello bob", "m1");
    const enc = (first.content as unknown as { attrs: Record<string, string> }[])[0];
    expect(enc?.attrs.type).toBe("pkmsg");
    expect(await receive(bob, first, silent)).toEqual({ text: "hello bob" });
    // Bob answers over the session his sqlite rows now hold; alice reads it.
    const reply = await encryptTo(bob, alice, "hi alice", "m2");
    expect(await receive(alice, reply, silent)).toEqual({ text: "hi alice" });
    expect(await receive(bob, await encryptTo(alice, bob, "again", "m3"), silent)).toEqual({ text: "again" });

    // Group: bob (sqlite) sends with a sender key, alice (folder) decrypts after the distribution message.
    const group = "120363000000000001@g.us";
    const sent = await bob.repository.encryptGroupMessage({
      group,
      meId: bob.jid,
      data: encodeWAMessage({ conversation: "to the group" }),
    });
    await alice.repository.processSenderKeyDistributionMessage({
      authorJid: bob.jid,
      item: { groupId: group, axolotlSenderKeyDistributionMessage: sent.senderKeyDistributionMessage },
    });
    const plain = await alice.repository.decryptGroupMessage({
      group,
      authorJid: bob.jid,
      msg: sent.ciphertext,
    });
    expect(proto.Message.decode(unpad(plain)).conversation).toBe("to the group");

    // The rows are what Baileys would have written as files: one per key, with times.
    const rows = openSqliteRows(path.join(root, "bob", "auth.sqlite"), { company: "bob", readonly: true });
    const names = (await rows.list()).map((r) => r.name);
    await rows.close();
    expect(names).toContain("creds.json");
    expect(names).toContain("session-111.0.json");
    expect(names.some((n) => n.startsWith("sender-key-120363000000000001@g.us--222--0"))).toBe(true);
    expect(names).not.toContain("pre-key-2.json"); // consumed by the pre-key message
  });

  it("refuses a wrong key, a tampered row, a vanished file and creds missing beside keys, with codes", async () => {
    const root = tempDir();
    const file = path.join(root, "acme.sqlite");
    const rows = openSqliteRows(file, { company: "acme", key, create: true });
    const auth = await openDatabaseAuthState(rows, { clock, logger: silent });
    await auth.saveCreds();
    await auth.state.keys.set({
      session: { "333.0": Buffer.from("s") },
      "pre-key": { "1": { private: Buffer.alloc(32), public: Buffer.alloc(32) } },
    });
    await auth.close();

    const wrong = openSqliteRows(file, { company: "acme", key: otherKey });
    await expect(openDatabaseAuthState(wrong, { clock })).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_KEY,
    });
    await wrong.close();

    const raw = new Database(file);
    const sealed = (
      raw.prepare("SELECT value FROM signal_keys WHERE type = 'session'").get() as { value: Buffer }
    ).value;
    sealed[20] = (sealed[20] ?? 0) ^ 1;
    raw.prepare("UPDATE signal_keys SET value = ? WHERE type = 'session'").run(sealed);
    raw.close();
    const reopened = await openDatabaseAuthState(openSqliteRows(file, { company: "acme", key }), { clock });
    await expect(reopened.state.keys.get("session", ["333.0"])).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_TAMPERED,
    });
    // A missing row is missing, not an error.
    expect(await reopened.state.keys.get("session", ["444.0"])).toEqual({ "444.0": null });

    // The database deleted under the open connection: the next write is refused, not lost silently.
    renameSync(file, `${file}.moved`);
    let failure: unknown;
    const gone = await openDatabaseAuthState(openSqliteRows(`${file}.moved`, { company: "acme", key }), {
      clock,
      onFailure: (err) => {
        failure = err;
      },
    });
    rmSync(`${file}.moved`);
    await expect(gone.state.keys.set({ session: { "555.0": Buffer.from("x") } })).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_UNAVAILABLE,
    });
    expect(failure).toMatchObject({ code: ErrorCodes.AUTH_STORE_UNAVAILABLE });
    await gone.close();
    await reopened.close();
    expect(() => openSqliteRows(file, { company: "acme", key })).toThrow(/does not exist/);

    const second = path.join(root, "beta.sqlite");
    const betaRows = openSqliteRows(second, { company: "beta", key, create: true });
    await betaRows.write([{ name: "session-1.0.json", data: Buffer.from('"x"') }], [], 1);
    await expect(openDatabaseAuthState(betaRows, { clock })).rejects.toMatchObject({
      code: ErrorCodes.CREDS_UNREADABLE,
      message: expect.stringMatching(/missing while 1 key row/),
    });
    await betaRows.close();
    expect(() => openSqliteRows(second, { company: "gamma" })).toThrow(/holds the auth state of beta/);
  });

  it("writes one keys.set in one transaction: a failing value leaves none of the batch", async () => {
    const root = tempDir();
    const rows = openSqliteRows(path.join(root, "t.sqlite"), { company: "t", key, create: true });
    await expect(
      rows.write(
        [
          { name: "session-1.0.json", data: Buffer.from("1") },
          { name: "not-a-key.txt", data: Buffer.from("2") },
        ],
        [],
        5,
      ),
    ).rejects.toThrow(/not a Baileys key name/);
    expect(await rows.list()).toEqual([]);
    await rows.write([{ name: "session-1.0.json", data: Buffer.from("1"), at: 1000 }], [], 5);
    expect(await rows.list()).toEqual([
      { name: "session-1.0.json", size: 1, createdAt: 1000, updatedAt: 1000, lastReadAt: 1000 },
    ]);
    await rows.close();
  });
});

/** Baileys pads group plaintexts (writeRandomPadMax16): the last byte says how much. */
function unpad(data: Uint8Array): Uint8Array {
  const pad = data[data.length - 1] ?? 0;
  return data.subarray(0, data.length - pad);
}

describe("sqlite auth store under kill -9", () => {
  it("loses no acknowledged key and tears no row when the writer is killed mid-write", async () => {
    const root = tempDir();
    const lanes = 2;
    const trialsPerLane = trialCount(2, 30);
    let kills = 0;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        const file = path.join(root, `lane-${lane}.sqlite`);
        let noise: string | undefined;
        const acked = new Set<number>();
        let counter = -1;
        for (let trial = 0; trial < trialsPerLane; trial++) {
          const killed = await killAuthBurst(
            [file],
            { WARDEN_AUTH_KEY: "correct horse battery staple" },
            20 + Math.floor(Math.random() * 150),
            acked,
          );
          counter = Math.max(counter, killed.counter);
          expect(killed.signal).toBe("SIGKILL");
          kills++;

          // Every row opens (none torn), the identity is the same, and every acknowledged pre-key is there.
          const rows = openSqliteRows(file, { company: "acme", key });
          const all = await rows.readAll();
          await rows.close();
          const credsRow = all.find((r) => r.name === "creds.json");
          const creds = JSON.parse(credsRow?.data.toString("utf8") as string, BufferJSON.reviver);
          const n = Buffer.from(creds.noiseKey.public).toString("base64");
          noise ??= n;
          expect(n).toBe(noise);
          expect(creds.accountSyncCounter).toBeGreaterThanOrEqual(counter);
          const ids = new Set(all.filter((r) => r.name.startsWith("pre-key-")).map((r) => r.name));
          for (const id of acked) expect(ids.has(`pre-key-${id}.json`), `pre-key ${id}`).toBe(true);
          for (const r of all.filter((r) => r.name.startsWith("pre-key-")))
            expect(Buffer.isBuffer(JSON.parse(r.data.toString("utf8"), BufferJSON.reviver).private)).toBe(
              true,
            );
        }
      }),
    );
    expect(kills).toBe(lanes * trialsPerLane);
  }, 120_000);
});

describe("the fleet scanner on a sqlite company", () => {
  it("counts its rows and recounts on a database write, with no reconcile scan", async () => {
    const root = tempDir();
    const home = path.join(root, "home");
    const sessionsDir = path.join(root, "sessions");
    mkdirSync(path.join(sessionsDir, "acme"), { recursive: true });
    await writeStoreChoice(path.join(sessionsDir, "acme"), "sqlite");
    const rows = openSqliteRows(authDatabaseFile(home, "acme"), { company: "acme", key, create: true });
    const auth = await openDatabaseAuthState(rows, { clock });
    const latest = new Map<string, FolderSnapshot>();
    let fullScans = 0;
    const scanner = new FleetScanner({
      sessionsDir,
      debounceMs: 30,
      reconcileEveryMs: 10 * 60_000, // only the database's own events can explain a change
      logger: silent,
      clock,
      authHome: home,
      onSnapshots: (snapshots) => {
        for (const s of snapshots) latest.set(s.company, s);
      },
      onRemoved: () => undefined,
      onReport: () => undefined,
      onFullScan: () => {
        fullScans++;
      },
    });
    try {
      await scanner.start();
      // The first scan, then the one the watcher runs once it is ready: later changes come from events.
      await waitFor(() => fullScans >= 2, { timeoutMs: 10_000, what: "the watcher's own full scan" });
      expect(latest.get("acme")).toMatchObject({ store: "sqlite", total: 1, creds: { state: "ok" } });
      await auth.state.keys.set({ session: { "5511.0": Buffer.from("s1"), "5512.0": Buffer.from("s2") } });
      await waitFor(() => latest.get("acme")?.total === 3, {
        timeoutMs: 10_000,
        what: "recount after a write",
      });
      expect(latest.get("acme")?.byCategory.session).toBe(2);
      expect(latest.get("acme")?.mtimes.get("session-5511.0.json")).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await scanner.close();
      await auth.close();
    }
  });
});

describe("warden status with a sqlite company that cannot be read", () => {
  it("shows the others as usual, names the removed and the corrupt database, no counts, exit 1", async () => {
    const root = tempDir();
    const home = path.join(root, "home");
    const sessionsDir = path.join(root, "sessions");
    mkdirSync(home, { recursive: true });
    await createCompanyFolder(path.join(sessionsDir, "alpha"), { preKeys: 3 });
    for (const id of ["beta", "gamma", "delta"]) {
      mkdirSync(path.join(sessionsDir, id), { recursive: true });
      await writeStoreChoice(path.join(sessionsDir, id), "sqlite");
      const auth = await openDatabaseAuthState(
        openSqliteRows(authDatabaseFile(home, id), { company: id, key, create: true }),
        { clock, logger: silent },
      );
      await auth.saveCreds();
      await auth.state.keys.set({ session: { "5511.0": Buffer.from("s") } });
      await auth.close();
    }
    rmSync(authDatabaseFile(home, "beta")); // the database disappears
    writeFileSync(authDatabaseFile(home, "gamma"), "this is not a database, just bytes ".repeat(200));
    const configFile = path.join(root, "warden.json");
    writeFileSync(configFile, JSON.stringify({ sessionsDir, fleet: { probe: null } }));
    const env = { WARDEN_CONFIG: configFile, WARDEN_HOME: home, WARDEN_AUTH_KEY: "unused here" };

    const json = await runCli(["status", "--json"], env);
    expect(json.code, json.stderr).toBe(1);
    const companies = (JSON.parse(json.stdout) as { companies: CompanyStatus[] }).companies;
    const byId = new Map(companies.map((c) => [c.id, c]));
    expect([...byId.keys()].sort()).toEqual(["alpha", "beta", "delta", "gamma"]);
    expect(byId.get("alpha")).toMatchObject({ store: "files", creds: "ok", files: { total: 4 } });
    expect(byId.get("alpha")?.scanError).toBeUndefined();
    expect(byId.get("delta")).toMatchObject({ store: "sqlite", creds: "ok", files: { total: 2 } });
    for (const id of ["beta", "gamma"]) {
      expect(byId.get(id)).toMatchObject({
        store: "sqlite",
        creds: "unknown",
        files: { total: null, stale: null, live: null, counted: null, reserve: null, byCategory: null },
        scanError: {
          code: ErrorCodes.AUTH_STORE_UNAVAILABLE,
          message: expect.stringContaining(authDatabaseFile(home, id)),
        },
        attention: { severity: "human", summary: "sqlite store unreadable" },
      });
    }
    // Worst first: the two that need a person lead the list.
    expect(companies.slice(0, 2).map((c) => c.id)).toEqual(["beta", "gamma"]);

    const table = await runCli(["status"], env);
    expect(table.code, table.stderr).toBe(1);
    const line = (id: string) => table.stdout.split("\n").find((l) => l.split(/\s{2,}/)[1] === id) ?? "";
    expect(line("alpha")).toMatch(/^ok\s+alpha\s+4\s/);
    expect(line("beta")).toMatch(/^human: sqlite store unreadable\s+beta\s+\?\s+\?\s+\?\s+\?\s+\?\s/);
    expect(table.stdout).toContain(
      `gamma not read (sqlite): ${ErrorCodes.AUTH_STORE_UNAVAILABLE}: Cannot read the auth database ${authDatabaseFile(home, "gamma")} of gamma`,
    );

    // Asked for by name: the same row, the same exit status.
    const one = await runCli(["status", "beta", "--json"], env);
    expect(one.code, one.stderr).toBe(1);
    expect(JSON.parse(one.stdout).companies[0]).toMatchObject({ id: "beta", files: { total: null } });

    // warden doctor: one failing line per company that cannot be read, naming it and its file.
    const doctor = await checkAuthStores(
      { home, pm2Home: path.join(root, "pm2"), configFile },
      loadConfig(configFile),
    );
    expect(doctor).toEqual([
      expect.objectContaining({
        name: "auth store of beta",
        status: "fail",
        detail: expect.stringContaining(authDatabaseFile(home, "beta")),
      }),
      expect.objectContaining({
        name: "auth store of gamma",
        status: "fail",
        detail: expect.stringContaining(authDatabaseFile(home, "gamma")),
      }),
      expect.objectContaining({
        name: "sqlite auth stores",
        status: "ok",
        detail: expect.stringMatching(/^1 company/),
      }),
    ]);
  });
});
