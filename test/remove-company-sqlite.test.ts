/**
 * `warden remove` of a company whose keys are in SQLite (WARDEN_HOME/auth/<company>.sqlite): the
 * database leaves auth/ with the folder, for WARDEN_HOME/removed/, after a verified backup of its
 * rows; the backup needs only the rows' passphrase (WARDEN_AUTH_KEY), not WARDEN_BACKUP_KEY. Without
 * any passphrase the rows cannot be read: refused, nothing moved, the failure audited.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { authDatabaseFile, databaseFile } from "../src/home-layout.js";
import { openStore } from "../src/store/store.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { runCli } from "./helpers/run-cli.js";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A WARDEN_HOME with company "shop" migrated to SQLite (20 pre-keys, 5 sessions): its key names. */
async function sqliteCompany() {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-remove-sqlite-"));
  roots.push(root);
  const sessionsDir = path.join(root, "sessions");
  const home = path.join(root, "home");
  mkdirSync(sessionsDir);
  mkdirSync(home);
  const configFile = path.join(root, "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir, fleet: { probe: null } }));
  const env = { WARDEN_CONFIG: configFile, WARDEN_HOME: home, WARDEN_AUTH_KEY: "rows passphrase" };
  const dir = path.join(sessionsDir, "shop");
  await createCompanyFolder(dir, { preKeys: 20, sessions: 5 });
  const keys = readdirSync(dir).sort();
  const migrated = await runCli(["auth", "migrate", "shop", "--to", "sqlite", "--json"], env);
  expect(migrated.code, migrated.stderr).toBe(0);
  expect(readdirSync(dir)).toEqual(["warden-auth.json"]);
  return { home, dir, env, keys, database: authDatabaseFile(home, "shop") };
}

function auditOf(home: string) {
  const store = openStore(databaseFile(home));
  try {
    return store.audit.list("shop").filter((a) => a.action === "remove");
  } finally {
    store.close();
  }
}

describe("warden remove of a sqlite company", () => {
  it("moves the database with the folder to WARDEN_HOME/removed after a verified backup of its rows, with only WARDEN_AUTH_KEY", async () => {
    const fx = await sqliteCompany();
    const done = await runCli(["remove", "shop", "--json"], fx.env);
    expect(done.code, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout) as { movedTo: string; databaseMovedTo: string; backup: string };

    expect(existsSync(fx.dir)).toBe(false);
    expect(existsSync(fx.database)).toBe(false);
    expect(readdirSync(path.join(fx.home, "auth")).filter((n) => n.startsWith("shop."))).toEqual([]);
    expect(result.movedTo.startsWith(path.join(fx.home, "removed", "shop-"))).toBe(true);
    expect(readdirSync(result.movedTo)).toEqual(["warden-auth.json"]);
    expect(result.databaseMovedTo).toBe(`${result.movedTo}.sqlite`);
    // One self-contained file (its WAL checkpointed into it) holding every key.
    expect(existsSync(`${result.databaseMovedTo}-wal`)).toBe(false);
    const db = new Database(result.databaseMovedTo, { readonly: true });
    const rows = db.prepare("SELECT count(*) AS n FROM signal_keys").get() as { n: number };
    db.close();
    expect(rows.n).toBe(fx.keys.length - 1); // every key but creds.json, which is in `creds`

    // The backup holds the rows as files (unsealed: no backup key was given) and verifies.
    const backups = await listBackups(path.join(fx.home, "backups"), "shop");
    expect(backups.map((b) => [b.reason, b.encrypted])).toEqual([["pre-remove", false]]);
    const verified = await verifyBackup(result.backup);
    expect(verified.ok, verified.problems.join("; ")).toBe(true);
    expect(verified.manifest?.files.map((f) => f.name).sort()).toEqual(fx.keys);

    const audit = auditOf(fx.home);
    expect(audit.map((a) => a.ok)).toEqual([true]);
    expect(audit[0]?.result).toContain(result.databaseMovedTo);
  });

  it("without a passphrase for the rows: refused with the variable named, nothing moved, the failure audited", async () => {
    const fx = await sqliteCompany();
    const { WARDEN_AUTH_KEY: _, ...noKey } = fx.env;
    const refused = await runCli(["remove", "shop"], noKey);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("WARDEN_AUTH_KEY");
    expect(existsSync(fx.database)).toBe(true);
    expect(readdirSync(fx.dir)).toEqual(["warden-auth.json"]);
    expect(existsSync(path.join(fx.home, "removed"))).toBe(false);
    expect(auditOf(fx.home).map((a) => a.ok)).toEqual([false]);
  });
});
