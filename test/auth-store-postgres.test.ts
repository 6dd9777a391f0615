/**
 * The postgres auth store on a real PostgreSQL 15 (test/helpers/pg-cluster.ts): a company on it
 * encrypts and decrypts with libsignal exactly like a folder company (session, pre-key message,
 * group sender key); it fails closed (a wrong key, a tampered row, a company with no rows, a
 * stopped server are coded errors, never a fresh identity, and never show the URL's password); a
 * worker whose database goes away mid-run stops that company and keeps the others; the scanner
 * counts its rows and keeps watching the fleet when the server is down; a writer killed with -9
 * mid-write loses no acknowledged key and tears no row.
 */

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BufferJSON, encodeWAMessage, proto } from "baileys";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { runAuthMigrate } from "../src/actions/auth-migrate.js";
import { verifyBackup } from "../src/actions/backup/backup.js";
import { backUpAndRecord } from "../src/actions/backup/verified-backup.js";
import { prepareNewPairing } from "../src/actions/pairing/new-pairing.js";
import { removeCompany } from "../src/actions/remove-company.js";
import { openDatabaseAuthState } from "../src/auth-store/database-auth-state.js";
import { PostgresCompanies } from "../src/auth-store/postgres-companies.js";
import { PostgresDb } from "../src/auth-store/postgres-db.js";
import { openPostgresRows } from "../src/auth-store/postgres-rows.js";
import { AuthKey } from "../src/auth-store/row-cipher.js";
import { writeStoreChoice } from "../src/auth-store/store-choice.js";
import { checkPostgres } from "../src/cli/doctor-postgres.js";
import { collectStatus, renderStatusTable } from "../src/cli/status.js";
import { loadConfig, type WardenConfig } from "../src/config/load.js";
import { ErrorCodes } from "../src/errors.js";
import { FleetScanner, type ScannerReport } from "../src/fleet/fleet-scanner.js";
import type { FolderSnapshot } from "../src/fleet/scan-folder.js";
import { openStore, type Store } from "../src/store/store.js";
import type { Worker } from "../src/worker/worker.js";
import { killAuthBurst } from "./helpers/auth-burst.js";
import { trialCount } from "./helpers/crash-trial.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { type PgCluster, startPgCluster } from "./helpers/pg-cluster.js";
import { createParty, encryptTo, type OpenAuth, receive, startSession } from "./helpers/signal-pair.js";
import { tempDir } from "./helpers/temp-dir.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

const PASSPHRASE = "correct horse battery staple";
const silent = pino({ level: "silent" });
const clock = { now: () => Date.now() };
let cluster: PgCluster;
let key: AuthKey;
let otherKey: AuthKey;

beforeAll(async () => {
  cluster = await startPgCluster();
  key = await AuthKey.derive(PASSPHRASE);
  otherKey = await AuthKey.derive("another passphrase");
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** Runs SQL as the cluster's owner (tampering, inspection). */
async function sql<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Opens the company named by the folder as a Baileys auth state on the postgres store. */
const postgresAuth: OpenAuth = async (dir) => {
  const rows = await openPostgresRows(cluster.url, { company: path.basename(dir), key, create: true });
  return openDatabaseAuthState(rows, { clock, logger: silent });
};

describe("postgres auth store with real Baileys", () => {
  it("carries a session, a pre-key message and a group sender key like a folder company", async () => {
    const root = tempDir();
    const alice = await createParty(path.join(root, "alice"), "111@s.whatsapp.net"); // folder store
    const bob = await createParty(path.join(root, "bob-rt"), "222@s.whatsapp.net", 5, postgresAuth);

    await startSession(alice, bob, 2);
    const first = await encryptTo(alice, bob, "hello bob", "m1");
    const enc = (first.content as unknown as { attrs: Record<string, string> }[])[0];
    expect(enc?.attrs.type).toBe("pkmsg");
    expect(await receive(bob, first, silent)).toEqual({ text: "hello bob" });
    const reply = await encryptTo(bob, alice, "hi alice", "m2");
    expect(await receive(alice, reply, silent)).toEqual({ text: "hi alice" });
    expect(await receive(bob, await encryptTo(alice, bob, "again", "m3"), silent)).toEqual({ text: "again" });

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

    // The rows are what Baileys would have written as files, sealed (no plaintext key in the table).
    const rows = await openPostgresRows(cluster.url, { company: "bob-rt" });
    const names = (await rows.list()).map((r) => r.name);
    await rows.close();
    expect(names).toContain("creds.json");
    expect(names).toContain("session-111.0.json");
    expect(names.some((n) => n.startsWith("sender-key-120363000000000001@g.us--222--0"))).toBe(true);
    expect(names).not.toContain("pre-key-2.json"); // consumed by the pre-key message
    const stored = await sql<{ key_id: string; n: string }>(
      "SELECT key_id, count(*) AS n FROM warden_auth.signal_keys WHERE company = 'bob-rt' GROUP BY key_id",
    );
    expect(stored).toEqual([{ key_id: key.id, n: String(names.length - 1) }]);
  }, 60_000);

  it("refuses a wrong key, a tampered row, a company with no rows and creds missing beside keys, with codes", async () => {
    const rows = await openPostgresRows(cluster.url, { company: "acme-t", key, create: true });
    const auth = await openDatabaseAuthState(rows, { clock, logger: silent });
    await auth.saveCreds();
    await auth.state.keys.set({
      session: { "333.0": Buffer.from("s") },
      "pre-key": { "1": { private: Buffer.alloc(32), public: Buffer.alloc(32) } },
    });
    await auth.close();

    const wrong = await openPostgresRows(cluster.url, { company: "acme-t", key: otherKey });
    await expect(openDatabaseAuthState(wrong, { clock })).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_KEY,
    });
    await wrong.close();

    await sql(
      "UPDATE warden_auth.signal_keys SET value = set_byte(value, 20, get_byte(value, 20) # 1) WHERE company = 'acme-t' AND type = 'session'",
    );
    const reopened = await openDatabaseAuthState(
      await openPostgresRows(cluster.url, { company: "acme-t", key }),
      {
        clock,
      },
    );
    await expect(reopened.state.keys.get("session", ["333.0"])).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_TAMPERED,
    });
    // A missing row is missing, not an error; a row moved under another key fails authentication.
    expect(await reopened.state.keys.get("session", ["444.0"])).toEqual({ "444.0": null });
    await sql("UPDATE warden_auth.signal_keys SET id = '2' WHERE company = 'acme-t' AND type = 'pre-key'");
    await expect(reopened.state.keys.get("pre-key", ["2"])).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_TAMPERED,
    });
    await reopened.close();

    // Its warden-auth.json says postgres but the database has nothing: refused, never started fresh.
    await expect(openPostgresRows(cluster.url, { company: "nobody", key })).rejects.toMatchObject({
      code: ErrorCodes.AUTH_STORE_UNAVAILABLE,
      message: expect.stringMatching(/holds no rows of nobody/),
    });
    expect(await sql("SELECT 1 FROM warden_auth.companies WHERE company = 'nobody'")).toEqual([]);

    const beta = await openPostgresRows(cluster.url, { company: "beta-t", key, create: true });
    await beta.write([{ name: "session-1.0.json", data: Buffer.from('"x"') }], [], 1);
    await expect(openDatabaseAuthState(beta, { clock })).rejects.toMatchObject({
      code: ErrorCodes.CREDS_UNREADABLE,
      message: expect.stringMatching(/missing while 1 key row/),
    });
    await beta.close();
  });

  it("never puts the URL's password in an error: wrong password, closed port", async () => {
    const badPassword = cluster.url.replace(cluster.password, "hunter2-very-secret");
    const refused = await PostgresDb.acquire(badPassword).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: ErrorCodes.AUTH_STORE_UNAVAILABLE });
    expect((refused as Error).message).toMatch(/password authentication failed/);
    expect((refused as Error).message).toContain("postgres://warden:***@127.0.0.1");
    expect(JSON.stringify(refused)).not.toContain("hunter2-very-secret");
    expect((refused as Error).message).not.toContain("hunter2-very-secret");

    const closedPort = cluster.url.replace(`:${cluster.port}/`, ":1/");
    const unreachable = await PostgresDb.acquire(closedPort).catch((err: unknown) => err);
    expect(unreachable).toMatchObject({ code: ErrorCodes.AUTH_STORE_UNAVAILABLE });
    expect((unreachable as Error).message).not.toContain(cluster.password);
  });

  it("writes one keys.set in one transaction: a failing value leaves none of the batch", async () => {
    const rows = await openPostgresRows(cluster.url, { company: "txn-t", key, create: true });
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

/** The creds' noise key of a postgres company: the identity. */
async function noiseOf(company: string): Promise<string> {
  const rows = await openPostgresRows(cluster.url, { company, key });
  try {
    const data = (await rows.read(["creds.json"])).get("creds.json");
    const creds = JSON.parse((data as Buffer).toString("utf8"), BufferJSON.reviver);
    return Buffer.from(creds.noiseKey.public).toString("base64");
  } finally {
    await rows.close();
  }
}

/** Baileys pads group plaintexts (writeRandomPadMax16): the last byte says how much. */
function unpad(data: Uint8Array): Uint8Array {
  const pad = data[data.length - 1] ?? 0;
  return data.subarray(0, data.length - pad);
}

describe("the postgres server going away mid-run", () => {
  let fx: FleetFixture | undefined;
  let store: Store | undefined;
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.close();
    store?.close();
    await fx?.cleanup();
    await cluster.start().catch(() => undefined); // already running unless the test stopped it
  });

  it("stops the company with a coded error, never re-initialises it, and keeps the rest of the fleet", async () => {
    fx = new FleetFixture({
      workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "1s" },
      simulation: { connectAfter: "20ms", initialPreKeys: 5, growPerMinute: 1200 },
    });
    for (const c of ["pgco", "plain"]) await createPairedFolder(path.join(fx.sessionsDir, c));
    const db = openStore(path.join(fx.home, "warden.db"));
    store = db;
    await runAuthMigrate({
      store: db,
      clock,
      sessionsDir: fx.sessionsDir,
      company: "pgco",
      to: "postgres",
      access: { home: fx.home, passphrase: PASSPHRASE, pgUrl: cluster.url },
      actor: "test",
    });
    const noiseBefore = await noiseOf("pgco");
    const worker = createTestWorker({
      config: loadConfig(fx.configFile),
      store: db,
      logger: fx.logger(),
      holder: "test/0/1",
      authStore: { home: fx.home, key, clock, pgUrl: cluster.url },
    });
    workers.push(worker);
    await worker.start();
    await waitFor(() => db.connections.get("pgco")?.state === "open", { what: "pgco open" });
    await waitFor(() => db.connections.get("plain")?.state === "open", { what: "plain open" });
    // Keys are being written as rows (growPerMinute): the server stops under them.
    await cluster.stop();
    await waitFor(() => db.connections.get("pgco")?.state === "auth_store_failed", {
      timeoutMs: 20_000,
      what: "pgco stopped",
    });
    const last = db.connections.transitionsOf("pgco").at(-1);
    expect(last?.message).toMatch(
      /WARDEN_ERR_AUTH_STORE_UNAVAILABLE: .*postgres auth store postgres:\/\/warden:\*\*\*@/,
    );
    expect(last?.message).not.toContain(cluster.password);
    expect(db.connections.get("plain")?.state).toBe("open");
    expect(db.connections.pairing("pgco")?.qr ?? null).toBeNull();

    // Back up: the identity is the one it had (same noise key), nothing was paired over it.
    await cluster.start();
    expect(await noiseOf("pgco")).toBe(noiseBefore);
  }, 60_000);
});

describe("the fleet scanner on a postgres company", () => {
  it("counts its rows from the table, recounts at the next full scan, and keeps watching the others when the server is down", async () => {
    const root = tempDir();
    const home = path.join(root, "home");
    const sessionsDir = path.join(root, "sessions");
    mkdirSync(path.join(sessionsDir, "scanpg"), { recursive: true });
    mkdirSync(path.join(sessionsDir, "folder"), { recursive: true });
    await writeStoreChoice(path.join(sessionsDir, "scanpg"), "postgres");
    const rows = await openPostgresRows(cluster.url, { company: "scanpg", key, create: true });
    const auth = await openDatabaseAuthState(rows, { clock });
    const old = Date.now() - 30 * 86_400_000;
    await rows.write([{ name: "session-77.0.json", data: Buffer.from("old"), at: old }], [], old);
    const latest = new Map<string, FolderSnapshot>();
    const reports: ScannerReport[] = [];
    const scanner = new FleetScanner({
      sessionsDir,
      debounceMs: 30,
      reconcileEveryMs: 10 * 60_000,
      logger: silent,
      clock,
      watch: false,
      authHome: home,
      postgres: new PostgresCompanies(cluster.url),
      onSnapshots: (snapshots) => {
        for (const s of snapshots) latest.set(s.company, s);
      },
      onRemoved: () => undefined,
      onReport: (r) => reports.push(r),
    });
    try {
      await scanner.start();
      expect(latest.get("scanpg")).toMatchObject({ store: "postgres", total: 2, creds: { state: "ok" } });
      expect(latest.get("scanpg")?.mtimes.get("session-77.0.json")).toBe(old); // exact, from updated_at
      await auth.state.keys.set({ session: { "5511.0": Buffer.from("s1"), "5512.0": Buffer.from("s2") } });
      await scanner.fullScan();
      expect(latest.get("scanpg")).toMatchObject({ total: 4, byCategory: { session: 3 } });

      await cluster.stop();
      latest.clear();
      await scanner.fullScan();
      // The folder company is still counted; the postgres one is reported, never counted as empty.
      expect(latest.has("folder")).toBe(true);
      expect(latest.has("scanpg")).toBe(false);
      expect(reports).toContainEqual(
        expect.objectContaining({
          kind: "scan-failed",
          company: "scanpg",
          message: expect.stringMatching(/WARDEN_ERR_AUTH_STORE_UNAVAILABLE|postgres auth store/),
        }),
      );
      expect(reports.map((r) => r.message).join("\n")).not.toContain(cluster.password);
    } finally {
      await scanner.close();
      await cluster.start().catch(() => undefined);
      await auth.close();
    }
  }, 60_000);
});

describe("warden status with the postgres server stopped", () => {
  it("lists the folder companies as usual and the postgres one with its coded error, no counts, no password", async () => {
    const root = tempDir();
    const sessionsDir = path.join(root, "sessions");
    await createPairedFolder(path.join(sessionsDir, "folder-st"));
    mkdirSync(path.join(sessionsDir, "statpg"), { recursive: true });
    await writeStoreChoice(path.join(sessionsDir, "statpg"), "postgres");
    const rows = await openPostgresRows(cluster.url, { company: "statpg", key, create: true });
    await rows.write([{ name: "session-9.0.json", data: Buffer.from("s") }], [], Date.now());
    await rows.close();
    const configFile = path.join(root, "warden.json");
    writeFileSync(configFile, JSON.stringify({ sessionsDir, fleet: { probe: null } }));
    const config = loadConfig(configFile);
    const status = () => collectStatus(config, undefined, Date.now(), undefined, root, cluster.url);
    const up = await status();
    expect(up.find((c) => c.id === "statpg")).toMatchObject({ store: "postgres", files: { total: 1 } });
    expect(up.find((c) => c.id === "statpg")?.scanError).toBeUndefined();
    const folderTotal = up.find((c) => c.id === "folder-st")?.files.total;

    await cluster.stop();
    try {
      const down = await status();
      expect(down.map((c) => c.id).sort()).toEqual(["folder-st", "statpg"]);
      expect(down.find((c) => c.id === "folder-st")).toMatchObject({
        store: "files",
        creds: "ok",
        files: { total: folderTotal },
      });
      const pgRow = down.find((c) => c.id === "statpg");
      expect(pgRow).toMatchObject({
        store: "postgres",
        files: { total: null, stale: null, counted: null, byCategory: null },
        scanError: {
          code: ErrorCodes.AUTH_STORE_UNAVAILABLE,
          message: expect.stringMatching(/postgres auth store postgres:\/\/warden:\*\*\*@127\.0\.0\.1/),
        },
        attention: { severity: "human", summary: "postgres store unreadable" },
      });
      expect(JSON.stringify(down)).not.toContain(cluster.password);
      expect(renderStatusTable(down, Date.now(), false)).toMatch(
        /statpg not read \(postgres\): WARDEN_ERR_AUTH_STORE_UNAVAILABLE: The postgres auth store/,
      );
    } finally {
      await cluster.start();
    }
  }, 60_000);
});

describe("postgres auth store under kill -9", () => {
  it("loses no acknowledged key and tears no row when the writer is killed mid-write", async () => {
    const lanes = 2;
    const trialsPerLane = trialCount(2, 30);
    let kills = 0;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        const company = `burst-${lane}`;
        let noise: string | undefined;
        const acked = new Set<number>();
        let counter = -1;
        for (let trial = 0; trial < trialsPerLane; trial++) {
          const killed = await killAuthBurst(
            ["postgres", company],
            { WARDEN_AUTH_KEY: PASSPHRASE, WARDEN_PG_URL: cluster.url },
            50 + Math.floor(Math.random() * 200),
            acked,
          );
          counter = Math.max(counter, killed.counter);
          expect(killed.signal).toBe("SIGKILL");
          kills++;

          // Every row opens (none torn), the identity is the same, every acknowledged pre-key is there.
          const rows = await openPostgresRows(cluster.url, { company, key });
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
          expect(acked.size).toBeGreaterThan(0);
        }
      }),
    );
    expect(kills).toBe(lanes * trialsPerLane);
  }, 180_000);
});

describe("warden doctor on the postgres store", () => {
  it("says in one line whether the URL connects and every postgres company has rows, never with the password", async () => {
    const sessionsDir = path.join(tempDir(), "sessions");
    mkdirSync(path.join(sessionsDir, "docpg"), { recursive: true });
    await writeStoreChoice(path.join(sessionsDir, "docpg"), "postgres");
    const config = { sessionsDir } as WardenConfig;

    expect(await checkPostgres({ pgUrl: undefined }, config)).toEqual([
      expect.objectContaining({
        status: "fail",
        detail: expect.stringMatching(/docpg.*WARDEN_PG_URL is not set/),
      }),
    ]);
    const [missing] = await checkPostgres({ pgUrl: cluster.url }, config);
    expect(missing).toMatchObject({ status: "fail", detail: expect.stringMatching(/no rows of docpg/) });
    await (await openPostgresRows(cluster.url, { company: "docpg", key, create: true })).close();
    const [good] = await checkPostgres({ pgUrl: cluster.url }, config);
    expect(good).toMatchObject({
      status: "ok",
      detail: expect.stringMatching(
        /warden:\*\*\*@127\.0\.0\.1:\d+\/warden: connected, schema warden_auth ready, 1 company/,
      ),
    });
    const [bad] = await checkPostgres(
      { pgUrl: cluster.url.replace(cluster.password, "s3cret-wrong-pw") },
      config,
    );
    expect(bad).toMatchObject({
      status: "fail",
      detail: expect.stringMatching(
        /password authentication failed.*1 company\(ies\) cannot be read: docpg$/,
      ),
    });
    expect(JSON.stringify([good, bad, missing])).not.toMatch(
      new RegExp(`${cluster.password}|s3cret-wrong-pw`),
    );
  });
});

describe("the supervisor's own actions on a postgres company", () => {
  it("reach its rows through the action context's WARDEN_PG_URL, and are refused without one", async () => {
    const fx = new FleetFixture();
    const dir = path.join(fx.sessionsDir, "suppg");
    mkdirSync(dir, { recursive: true });
    await writeStoreChoice(dir, "postgres");
    // The supervisor seals nothing itself: its actions open rows with WARDEN_BACKUP_KEY (README).
    const rows = await openPostgresRows(cluster.url, { company: "suppg", key, create: true });
    const auth = await openDatabaseAuthState(rows, { clock });
    await auth.state.keys.set({ session: { "9.0": Buffer.from("s") } });
    await auth.close();
    const db = openStore(path.join(fx.home, "warden.db"));
    try {
      const config = loadConfig(fx.configFile);
      // What the supervisor builds once (supervisor.ts), with and without WARDEN_PG_URL.
      const actions = (pgUrl: string | undefined) =>
        createActionContext({ store: db, clock, config, home: fx.home, backupKey: PASSPHRASE, pgUrl });
      const backup = (pgUrl: string | undefined) =>
        backUpAndRecord(actions(pgUrl), {
          company: "suppg",
          actor: "warden:schedule",
          dir,
          reason: "scheduled",
        });
      await expect(backup(undefined)).rejects.toMatchObject({
        code: ErrorCodes.AUTH_STORE_UNAVAILABLE,
        message: expect.stringMatching(/set WARDEN_PG_URL/),
      });
      const { created, verified } = await backup(cluster.url);
      expect(created.manifest.files.map((f) => f.name).sort()).toEqual(["creds.json", "session-9.0.json"]);
      expect(verified).toMatchObject({ ok: true });
    } finally {
      db.close();
      await fx.cleanup();
    }
  });
});

/** A paired folder migrated to postgres, its identity's noise key, and an action context on it. */
async function pairedOnPostgres(fx: FleetFixture, db: Store, company: string) {
  await createPairedFolder(path.join(fx.sessionsDir, company));
  const access = { home: fx.home, passphrase: PASSPHRASE, pgUrl: cluster.url };
  await runAuthMigrate({
    store: db,
    clock,
    sessionsDir: fx.sessionsDir,
    company,
    to: "postgres",
    access,
    actor: "test",
  });
  const config = loadConfig(fx.configFile);
  const actions = createActionContext({
    store: db,
    clock,
    config,
    home: fx.home,
    authKey: PASSPHRASE,
    pgUrl: cluster.url,
  });
  return { noise: await noiseOf(company), actions };
}

describe("a new pairing of a postgres company", () => {
  it("keeps the store: the old rows set aside under another name, an empty record in use", async () => {
    const fx = new FleetFixture({ simulation: { connectAfter: "20ms", initialPreKeys: 5 } });
    const db = openStore(path.join(fx.home, "warden.db"));
    try {
      const { noise, actions } = await pairedOnPostgres(fx, db, "pairpg");
      const prepared = await prepareNewPairing(actions, { company: "pairpg", actor: "test" });
      const aside = `pairpg@${path.basename(prepared.movedAside)}`;
      expect(await noiseOf(aside)).toBe(noise);
      const fresh = await openPostgresRows(cluster.url, { company: "pairpg", key });
      expect(await fresh.list()).toEqual([]);
      await fresh.close();
    } finally {
      db.close();
      await fx.cleanup();
    }
  });
});

describe("warden remove of a postgres company", () => {
  it("moves the folder and sets the rows aside under the moved folder's name, after a verified backup", async () => {
    const fx = new FleetFixture();
    const db = openStore(path.join(fx.home, "warden.db"));
    try {
      const { noise, actions } = await pairedOnPostgres(fx, db, "gonepg");
      const removed = await removeCompany(actions, { company: "gonepg", actor: "test" });
      const aside = `gonepg@${path.basename(removed.movedTo)}`;
      expect(removed.databaseMovedTo).toContain(`company ${aside}`);
      expect(existsSync(path.join(fx.sessionsDir, "gonepg"))).toBe(false);
      expect(existsSync(path.join(removed.movedTo, "warden-auth.json"))).toBe(true);
      // The identity is whole under its new name; nothing answers to the old one.
      expect(await noiseOf(aside)).toBe(noise);
      expect(await sql("SELECT 1 FROM warden_auth.companies WHERE company = $1", ["gonepg"])).toEqual([]);
      const verified = await verifyBackup(removed.backup, {});
      expect(verified.ok).toBe(true);
      expect(verified.manifest?.files.some((f) => f.name === "creds.json")).toBe(true);
      expect(db.audit.list("gonepg").map((a) => `${a.action}:${a.ok}`)).toEqual(
        expect.arrayContaining(["remove:true"]),
      );
    } finally {
      db.close();
      await fx.cleanup();
    }
  });
});
