/**
 * `npm run bench:auth`: the auth stores side by side.
 * - keys.set: AUTH_BENCH_BATCHES batches of AUTH_BENCH_BATCH session keys (~1 KiB, Baileys' own
 *   encoding) through the folder store (atomic files), the SQLite store and the PostgreSQL store
 *   (one transaction per batch, rows sealed); keys/s.
 * - the scanner: one company of AUTH_BENCH_KEYS keys (pre-keys, sessions, contacts' keys) counted
 *   from its folder and from its table, AUTH_BENCH_SCANS times; ms per company. For postgres, a
 *   full scan is the fleet's one listing query (refresh) plus the count from memory.
 * PostgreSQL: WARDEN_PG_URL when set, else a throwaway PostgreSQL 15 started like the tests'
 * (test/helpers/pg-cluster.ts; as root it runs as the postgres user).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { openDatabaseAuthState } from "../src/auth-store/database-auth-state.js";
import { PostgresCompanies } from "../src/auth-store/postgres-companies.js";
import { PostgresDb } from "../src/auth-store/postgres-db.js";
import { openPostgresRows, removePostgresCompany } from "../src/auth-store/postgres-rows.js";
import { AuthKey } from "../src/auth-store/row-cipher.js";
import { openSqliteRows } from "../src/auth-store/sqlite-rows.js";
import { writeStoreChoice } from "../src/auth-store/store-choice.js";
import { scanFolderSync } from "../src/fleet/scan-folder.js";
import { authDatabaseFile } from "../src/home-layout.js";
import { useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";
import { type PgCluster, startPgCluster } from "../test/helpers/pg-cluster.js";
import { positiveInt } from "./bench-env.js";

const batches = positiveInt("AUTH_BENCH_BATCHES", 200);
const batchSize = positiveInt("AUTH_BENCH_BATCH", 10);
const keysPerCompany = positiveInt("AUTH_BENCH_KEYS", 1_500);
const scans = positiveInt("AUTH_BENCH_SCANS", 50);
const clock = { now: () => Date.now() };

const root = mkdtempSync(path.join(os.tmpdir(), "warden-bench-auth-"));
let cluster: PgCluster | undefined;
try {
  let pgUrl = process.env.WARDEN_PG_URL;
  if (!pgUrl) {
    cluster = await startPgCluster();
    pgUrl = cluster.url;
  }
  const company = `bench-${process.pid}`;
  const key = await AuthKey.derive("bench passphrase");
  const home = path.join(root, "home");
  const sessions = path.join(root, "sessions");
  mkdirSync(sessions, { recursive: true });

  const folderDir = path.join(sessions, "folder");
  const folder = await useAtomicMultiFileAuthState(folderDir);
  const sqliteDir = path.join(sessions, "sqlite");
  mkdirSync(sqliteDir);
  await writeStoreChoice(sqliteDir, "sqlite");
  const rows = openSqliteRows(authDatabaseFile(home, "sqlite"), { company: "sqlite", key, create: true });
  const sqlite = await openDatabaseAuthState(rows, { clock });
  const pgDir = path.join(sessions, company);
  mkdirSync(pgDir);
  await writeStoreChoice(pgDir, "postgres");
  const postgres = await openDatabaseAuthState(
    await openPostgresRows(pgUrl, { company, key, create: true }),
    {
      clock,
    },
  );

  for (const [name, auth] of [
    ["files", folder],
    ["sqlite", sqlite],
    ["postgres", postgres],
  ] as const) {
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      const session: Record<string, Uint8Array> = {};
      for (let k = 0; k < batchSize; k++) session[`55119${b}${k}.0`] = randomBytes(1_024);
      await auth.state.keys.set({ session });
    }
    await auth.flush();
    const ms = performance.now() - started;
    console.log(
      `keys.set ${name.padEnd(8)} ${batches} batches x ${batchSize} keys: ${Math.round((batches * batchSize) / (ms / 1000))} keys/s (${(ms / batches).toFixed(2)} ms per batch)`,
    );
  }

  // Fill both to keysPerCompany keys: pre-keys, more sessions, contacts' small keys.
  for (const auth of [folder, sqlite, postgres]) {
    const pre: Record<string, { private: Buffer; public: Buffer }> = {};
    const ids: Record<string, Uint8Array> = {};
    const have = batches * batchSize;
    for (let i = 0; i < keysPerCompany - have; i++) {
      if (i % 2 === 0) pre[String(i + 1)] = { private: randomBytes(32), public: randomBytes(32) };
      else ids[`3000${i}_1.0`] = randomBytes(33);
    }
    await auth.state.keys.set({ "pre-key": pre, "identity-key": ids });
    await auth.saveCreds();
    await auth.flush();
  }
  await sqlite.close();
  await postgres.close();

  for (const [name, dir, company] of [
    ["files", folderDir, "folder"],
    ["sqlite", sqliteDir, "sqlite"],
  ] as const) {
    let total = 0;
    const started = performance.now();
    for (let i = 0; i < scans; i++)
      total = scanFolderSync(dir, company, Date.now(), new Map(), { authHome: home }).total;
    const ms = (performance.now() - started) / scans;
    console.log(`scan     ${name.padEnd(8)} one company of ${total} keys: ${ms.toFixed(2)} ms per full scan`);
  }
  const listings = new PostgresCompanies(pgUrl);
  let total = 0;
  let refreshMs = 0;
  const started = performance.now();
  for (let i = 0; i < scans; i++) {
    const t = performance.now();
    await listings.refresh();
    refreshMs += performance.now() - t;
    total = scanFolderSync(pgDir, company, Date.now(), new Map(), { postgres: listings }).total;
  }
  const ms = (performance.now() - started) / scans;
  console.log(
    `scan     ${"postgres".padEnd(8)} one company of ${total} keys: ${ms.toFixed(2)} ms per full scan (${(refreshMs / scans).toFixed(2)} ms of it the listing query)`,
  );
  await listings.close();
  // A shared database keeps nothing of the bench.
  const db = await PostgresDb.acquire(pgUrl);
  await removePostgresCompany(db, company);
  await db.release();
} finally {
  rmSync(root, { recursive: true, force: true });
  await cluster?.destroy();
}
