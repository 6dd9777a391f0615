/**
 * Invariant 2 through the real CLI and actions: a FIFO creds.json never hangs a
 * cleanup (dry run or not) and leaves no lease behind; a company folder that is a symlink is refused
 * by `status <id>` and `backup <id>`; a creds.json that is a symlink is never followed by cleanup.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/store/store.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { mkfifo, releaseFifoReaders } from "./helpers/hostile.js";
import { runCli } from "./helpers/run-cli.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

async function setup() {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-hostile-"));
  const home = path.join(root, "home");
  const sessionsDir = path.join(root, "sessions");
  mkdirSync(path.join(sessionsDir, "acme"), { recursive: true });
  mkdirSync(home);
  await createCompanyFolder(path.join(sessionsDir, "acme"), { preKeys: 20, sessions: 3, senderKeys: 1 });
  const configFile = path.join(root, "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir, preKeyReserve: 0, fleet: { probe: null } }));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return { root, home, sessionsDir, env: { WARDEN_CONFIG: configFile, WARDEN_HOME: home } };
}

describe("a FIFO creds.json (item 2)", () => {
  it("cleanup --dry-run and cleanup refuse at once, naming the FIFO, and leave no lease", async () => {
    const t = await setup();
    const creds = path.join(t.sessionsDir, "acme", "creds.json");
    rmSync(creds);
    mkfifo(creds);
    cleanups.push(() => releaseFifoReaders(creds));
    const dry = await runCli(["cleanup", "acme", "--dry-run"], t.env);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain(`${creds} is a FIFO (named pipe): not read`);
    const real = await runCli(["cleanup", "acme", "--force"], t.env);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain(`${creds} is a FIFO (named pipe): not read`);
    const store = openStore(path.join(t.home, "warden.db"));
    try {
      expect(store.leases.get("acme")).toBeUndefined();
      expect(store.audit.list("acme")[0]).toMatchObject({ action: "cleanup", ok: false });
    } finally {
      store.close();
    }
  }, 60_000);
});

describe("a company folder that is a symlink (item 4)", () => {
  it("status <id> and backup <id> refuse it: nothing read, nothing archived", async () => {
    const t = await setup();
    const outside = path.join(t.root, "outside");
    await createCompanyFolder(outside, { preKeys: 5, sessions: 1, senderKeys: 0 });
    symlinkSync(outside, path.join(t.sessionsDir, "mirror"));
    const status = await runCli(["status", "mirror"], t.env);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain("is a symlink, not a folder (symlinks are not followed)");
    const backup = await runCli(["backup", "mirror"], t.env);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain("is a symlink, not a folder (symlinks are not followed)");
    expect(
      readdirSync(path.join(t.home)).includes("backups") ? readdirSync(path.join(t.home, "backups")) : [],
    ).toEqual([]);
  }, 60_000);
});

describe("a creds.json that is a symlink (item 5)", () => {
  it("cleanup never follows it: refused, naming the symlink", async () => {
    const t = await setup();
    const creds = path.join(t.sessionsDir, "acme", "creds.json");
    const elsewhere = path.join(t.root, "elsewhere.json");
    writeFileSync(elsewhere, JSON.stringify({ nextPreKeyId: 1000 }));
    rmSync(creds);
    symlinkSync(elsewhere, creds);
    const dry = await runCli(["cleanup", "acme", "--dry-run"], t.env);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain(`${creds} is a symlink (never followed): not read`);
  }, 60_000);
});

describe("backups and FIFOs", () => {
  it("verify of a backup that is a FIFO fails at once, naming it", async () => {
    const { verifyBackup } = await import("../src/actions/backup/backup.js");
    const t = await setup();
    const fifo = path.join(t.root, "20260101T000000000Z-manual.tar.gz");
    mkfifo(fifo);
    cleanups.push(() => releaseFifoReaders(fifo));
    const result = await verifyBackup(fifo);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toContain(`${fifo} is a FIFO (named pipe): not read`);
  });
});

describe("coded errors", () => {
  it("BackupInvalidError, SnapshotUnsealError and DeliveryError are WardenErrors with stable codes", async () => {
    const { BackupInvalidError, DeliveryError, ErrorCodes, SnapshotUnsealError, WardenError } = await import(
      "../src/errors.js"
    );
    const backup = new BackupInvalidError("/b.tar.gz", ["x: content does not match the manifest (sha256)"]);
    expect(backup).toBeInstanceOf(WardenError);
    expect(backup.code).toBe(ErrorCodes.BACKUP_INVALID);
    const unseal = new SnapshotUnsealError({ id: 3, company: "acme", file: "creds.json" }, "no key");
    expect(unseal).toBeInstanceOf(WardenError);
    expect(unseal.code).toBe(ErrorCodes.SNAPSHOT_UNSEAL);
    expect(unseal.message).toBe("Snapshot #3 of acme/creds.json cannot be opened: no key");
    const delivery = new DeliveryError({ kind: "refused", reason: "chat not found" });
    expect(delivery).toBeInstanceOf(WardenError);
    expect(delivery.code).toBe(ErrorCodes.ALERT_DELIVERY);
  });
});
