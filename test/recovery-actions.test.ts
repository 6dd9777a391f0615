/**
 * Cleanup, reset, backup and restore as an operator runs them: real Baileys folders, real SQLite,
 * real archives; the CLI as a child process for arguments and exit codes.
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { createBackup, extractBackup, listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { type CleanupRequest, runCleanup } from "../src/actions/cleanup/cleanup.js";
import { finishInterruptedRestore } from "../src/actions/restore/folder-swap.js";
import { type RestoreRequest, runRestore } from "../src/actions/restore/restore.js";
import { systemClock } from "../src/clock.js";
import { companySettings, loadConfig, type WardenConfig } from "../src/config/load.js";
import { ErrorCodes, WardenError } from "../src/errors.js";
import { openStore, type Store } from "../src/store/store.js";
import { addFiles, createCompanyFolder, names } from "./helpers/baileys-folder.js";
import { digestSync } from "./helpers/folder-digest.js";
import { runCli } from "./helpers/run-cli.js";

const DAY = 86_400_000;
const KEY = "correct horse battery staple";
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

interface Env {
  root: string;
  home: string;
  sessionsDir: string;
  dir: string;
  configFile: string;
  config: WardenConfig;
  store: Store;
  backupsRoot: string;
}

/**
 * acme: Baileys creds, 80 pre-keys, 6 sessions, 3 sender keys, app-state keys, a lid mapping and a
 * file that is not Baileys'. Everything is 30 days old except the 5 newest pre-keys and 2 sessions.
 */
async function setup(): Promise<Env> {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-recovery-"));
  const home = path.join(root, "home");
  const sessionsDir = path.join(root, "sessions");
  const dir = path.join(sessionsDir, "acme");
  mkdirSync(dir, { recursive: true });
  mkdirSync(home);
  await createCompanyFolder(dir, { preKeys: 80, sessions: 6, senderKeys: 3 });
  addFiles(dir, [
    ...names(3, (i) => `app-state-sync-key-AAAA${i}.json`),
    "app-state-sync-version-regular.json",
    "lid-mapping-5511987654321.json",
    "notes.txt",
  ]);
  const old = (Date.now() - 30 * DAY) / 1000;
  const young = new Set([
    "pre-key-76.json",
    "pre-key-77.json",
    "pre-key-78.json",
    "pre-key-79.json",
    "pre-key-80.json",
  ]);
  for (const [i, name] of readdirSync(dir).sort().entries()) {
    if (young.has(name) || (name.startsWith("session-") && i % 3 === 0)) continue;
    utimesSync(path.join(dir, name), old, old);
  }
  const configFile = path.join(root, "warden.json");
  writeFileSync(
    configFile,
    JSON.stringify({ sessionsDir, preKeyReserve: 0, cleanup: { keepPreKeys: 10 }, fleet: { probe: null } }),
  );
  const config = loadConfig(configFile);
  const store = openStore(path.join(home, "warden.db"));
  cleanups.push(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, home, sessionsDir, dir, configFile, config, store, backupsRoot: path.join(home, "backups") };
}

const PROTECTED = /^(creds\.json|app-state-sync-key-.*|app-state-sync-version-.*)$/;

/** The action context of one test process (the CLI's and the supervisor's are built the same way). */
function actionsOf(env: Env, backupKey?: string) {
  return createActionContext({
    store: env.store,
    clock: systemClock,
    config: env.config,
    home: env.home,
    backupKey,
  });
}

function cleanup(env: Env, extra: Partial<CleanupRequest> & { backupKey?: string } = {}) {
  const { backupKey, ...request } = extra;
  return runCleanup(actionsOf(env, backupKey), {
    company: "acme",
    settings: companySettings(env.config, "acme"),
    actor: "test",
    ...request,
  });
}

function restore(env: Env, extra: Partial<RestoreRequest> & { backupKey?: string } = {}) {
  const { backupKey, ...request } = extra;
  return runRestore(actionsOf(env, backupKey), { company: "acme", actor: "test", ...request });
}

/** A manual backup of acme (encrypted with `key`). */
function backupOf(env: Env, key?: string) {
  return createBackup({
    company: "acme",
    dir: env.dir,
    backupsRoot: env.backupsRoot,
    reason: "manual",
    now: Date.now(),
    key,
  });
}

function holdAsWorker(env: Env): void {
  expect(env.store.leases.acquire("acme", "worker-0:4242", 4242, Date.now(), 60_000)).toBe(true);
  env.store.connections.transition(
    { company: "acme", to: "open", code: null, message: null, holder: "worker-0:4242" },
    Date.now(),
  );
}

describe("cleanup", () => {
  it("a dry run plans without touching anything: old pre-keys, sessions, sender keys; never creds or app-state", async () => {
    const env = await setup();
    const before = digestSync(env.dir);
    const result = await cleanup(env, { dryRun: true });
    expect(digestSync(env.dir)).toEqual(before);
    expect(existsSync(env.backupsRoot)).toBe(false);
    expect(env.store.audit.list()).toEqual([]);
    const planned = result.plan.delete.map((d) => d.file);
    // 80 pre-keys, newest 10 kept → 70 old; of them 5 are young (but they are among the newest 10 anyway).
    expect(planned.filter((f) => f.startsWith("pre-key-"))).toHaveLength(70);
    expect(planned).not.toContain("pre-key-80.json");
    expect(planned.filter((f) => f.startsWith("session-")).length).toBeGreaterThan(0);
    expect(planned.some((f) => f.startsWith("sender-key-"))).toBe(true);
    for (const f of planned) expect(f).not.toMatch(PROTECTED);
    expect(planned).not.toContain("lid-mapping-5511987654321.json");
    expect(planned).not.toContain("notes.txt");
    expect(result.plan.keepCount).toBe(before.size - planned.length);
  });

  it("deletes exactly the plan after a verified backup that holds every deleted file; creds and app-state stay byte-identical", async () => {
    const env = await setup();
    const before = digestSync(env.dir);
    const planned = (await cleanup(env, { dryRun: true })).plan.delete.map((d) => d.file);
    const result = await cleanup(env);
    expect(result.deleted).toBe(planned.length);
    const after = digestSync(env.dir);
    expect([...after.keys()].sort()).toEqual([...before.keys()].filter((f) => !planned.includes(f)).sort());
    for (const [name, sha] of after) expect(sha).toBe(before.get(name));
    expect(after.get("creds.json")).toBe(before.get("creds.json"));

    // The backup verifies and restores every deleted file with its bytes.
    expect(result.backup).toMatch(/-pre-cleanup\.tar\.gz$/);
    expect((await verifyBackup(result.backup as string)).ok).toBe(true);
    const out = path.join(env.root, "check");
    await extractBackup(result.backup as string, out);
    const restored = digestSync(out);
    for (const f of planned) expect(restored.get(f)).toBe(before.get(f));

    const [audit] = env.store.audit.list("acme");
    expect(audit).toMatchObject({ actor: "test", action: "cleanup", ok: true });
    expect(audit?.result).toContain(`deleted ${planned.length} of ${planned.length}`);
    expect(audit?.detail.backup).toBe(result.backup);
    // The hold is gone: a worker can take the company again.
    expect(env.store.leases.get("acme")).toBeUndefined();
  });

  it("minAge protects young files; --force lowers only minAge", async () => {
    const env = await setup();
    // Make everything young: nothing may go without force.
    const now = Date.now() / 1000;
    for (const name of readdirSync(env.dir)) utimesSync(path.join(env.dir, name), now, now);
    expect((await cleanup(env, { dryRun: true })).plan.delete).toEqual([]);
    const forced = await cleanup(env, { dryRun: true, force: true });
    const files = forced.plan.delete.map((d) => d.file);
    // Pre-keys beyond the newest 10 go; young sessions and sender keys are within their max ages: they stay.
    expect(files).toHaveLength(70);
    expect(files.every((f) => f.startsWith("pre-key-"))).toBe(true);
    expect(forced.plan.delete[0]?.reason).toContain("(force)");
  });

  it("refuses while a worker holds the company: nothing backed up, nothing deleted", async () => {
    const env = await setup();
    holdAsWorker(env);
    const before = digestSync(env.dir);
    const err = await cleanup(env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WardenError);
    expect((err as WardenError).code).toBe(ErrorCodes.COMPANY_CONNECTED);
    expect((err as Error).message).toContain("acme is connected (state open, held by worker-0:4242)");
    expect((err as Error).message).toContain("npm run warden -- stop acme");
    expect(digestSync(env.dir)).toEqual(before);
    expect(existsSync(env.backupsRoot)).toBe(false);
    expect(env.store.leases.get("acme")?.holder).toBe("worker-0:4242");
  });

  it("--stop while another action holds the company refuses without stopping it", async () => {
    const env = await setup();
    expect(
      env.store.leases.acquire("acme", `action:cli:z:${process.pid}:aaa`, process.pid, Date.now(), 60_000),
    ).toBe(true);
    await expect(cleanup(env, { stopFirst: true })).rejects.toThrow(/another action/);
    expect(env.store.control.pending()).toEqual([]);
    expect(env.store.control.desired("acme").desired).toBe("run");
  });

  it("two actions on one company exclude each other", async () => {
    const env = await setup();
    // Started while the first one holds the company (its backup is under way), whatever the
    // machine's load: which of two racing calls wins is scheduling, the exclusion is the invariant.
    let second: Promise<unknown> | undefined;
    const first = await cleanup(env, {
      onProgress: () => {
        second ??= cleanup(env).catch((e: unknown) => e);
      },
    });
    expect(first.deleted).toBeGreaterThan(0);
    expect(second).toBeDefined();
    const refused = await second;
    expect((refused as WardenError).code).toBe(ErrorCodes.LEASE_HELD);
    expect((refused as Error).message).toContain("another action");
    // One hold in the history: the refused action never held the company, even for a moment.
    const holds = env.store.leases.history().filter((h) => h.company === "acme");
    expect(holds).toHaveLength(1);
    expect(holds[0]?.releasedAt).not.toBeNull();
  });

  it("a backup that cannot be written (no space, no permission) deletes nothing and records a failed audit row", async () => {
    const env = await setup();
    // A file where the backups folder should be: createBackup cannot create it.
    writeFileSync(env.backupsRoot, "not a folder");
    const before = digestSync(env.dir);
    await expect(cleanup(env)).rejects.toThrow();
    expect(digestSync(env.dir)).toEqual(before);
    const [audit] = env.store.audit.list("acme");
    expect(audit).toMatchObject({ action: "cleanup", ok: false });
    expect(audit?.result).toContain("failed after deleting 0 file(s)");
    expect(env.store.leases.get("acme")).toBeUndefined();
  });

  it("reset leaves Baileys working: creds, app-state, lid-mappings, non-Baileys files and the pre-key floor stay", async () => {
    const env = await setup();
    const before = digestSync(env.dir);
    const result = await cleanup(env, { mode: "reset" });
    const left = [...digestSync(env.dir).keys()].sort();
    // keepPreKeys 10: pre-keys 71..80 stay; sessions, sender keys and their memory go.
    const floor = new Set(names(10, (i) => `pre-key-${71 + i}.json`));
    expect(left).toEqual(
      [...before.keys()]
        .filter((f) => PROTECTED.test(f) || f === "notes.txt" || f.startsWith("lid-mapping-") || floor.has(f))
        .sort(),
    );
    expect(left.some((f) => f.startsWith("session-") || f.startsWith("sender-key"))).toBe(false);
    expect(digestSync(env.dir).get("creds.json")).toBe(before.get("creds.json"));
    expect(result.backup).toMatch(/-pre-reset\.tar\.gz$/);
    expect(env.store.audit.list("acme")[0]?.action).toBe("reset");
  });

  it("an unknown company, a bad id and a symlinked folder are refused before anything happens", async () => {
    const env = await setup();
    await expect(cleanup(env, { company: "nobody" })).rejects.toThrow(/Unknown company "nobody"/);
    await expect(cleanup(env, { company: "../acme" })).rejects.toThrow(/Invalid company id/);
    symlinkSync(env.dir, path.join(env.sessionsDir, "mirror"));
    await expect(cleanup(env, { company: "mirror" })).rejects.toThrow(
      /not a folder \(symlinks are not followed\)/,
    );
    expect(env.store.audit.list()).toEqual([]);
  });
});

describe("after a crash", () => {
  it("a hold left by a killed action is released at once (its process is gone); a live one is not", async () => {
    const env = await setup();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid as number;
    expect(env.store.leases.acquire("acme", `action:cli:x:${dead}:abc`, dead, Date.now(), 600_000)).toBe(
      true,
    );
    const result = await cleanup(env, { dryRun: false });
    expect(result.deleted).toBeGreaterThan(0);
    expect(env.store.leases.history().find((h) => h.holder.includes(`:${dead}:`))?.releaseReason).toBe(
      "the action's process died",
    );
    // A hold of a live process (this one) still excludes.
    expect(
      env.store.leases.acquire("acme", `action:cli:y:${process.pid}:def`, process.pid, Date.now(), 600_000),
    ).toBe(true);
    await expect(cleanup(env)).rejects.toThrow(/another action/);
  });

  it("a temp archive of a backup killed mid-write is removed by the next backup; one of a live process is kept", async () => {
    const env = await setup();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid as number;
    const companyBackups = path.join(env.backupsRoot, "acme");
    mkdirSync(companyBackups, { recursive: true });
    writeFileSync(path.join(companyBackups, `.warden-tmp-${dead}-0a1b2c3d4e5f`), "half an archive");
    writeFileSync(path.join(companyBackups, `.warden-tmp-${process.pid}-0a1b2c3d4e5f`), "in progress");
    await backupOf(env);
    const left = readdirSync(companyBackups).filter((n) => n.startsWith(".warden-tmp-"));
    expect(left).toEqual([`.warden-tmp-${process.pid}-0a1b2c3d4e5f`]);
  });
});

describe("restore", () => {
  it("swaps the backup in atomically and keeps the replaced folder in WARDEN_HOME", async () => {
    const env = await setup();
    const original = digestSync(env.dir);
    await cleanup(env);
    const afterCleanup = digestSync(env.dir);
    const result = await restore(env);
    expect(digestSync(env.dir)).toEqual(original);
    expect(result.movedAside).toContain(path.join(env.home, "replaced", "acme"));
    expect(digestSync(result.movedAside as string)).toEqual(afterCleanup);
    expect(readdirSync(env.sessionsDir)).toEqual(["acme"]);
    expect(env.store.audit.list("acme").at(-1)).toMatchObject({ action: "restore", ok: true });
    expect(existsSync(path.join(env.home, "restores", "acme.json"))).toBe(false);
  });

  it("an encrypted backup with one flipped byte fails verification and restores nothing", async () => {
    const env = await setup();
    const created = await backupOf(env, KEY);
    const bytes = readFileSync(created.path);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8((bytes.at(middle) ?? 0) ^ 0x01, middle);
    writeFileSync(created.path, bytes);
    const before = digestSync(env.dir);
    const err = await restore(env, { backupKey: KEY }).catch((e: unknown) => e);
    expect((err as WardenError).code).toBe(ErrorCodes.BACKUP_INVALID);
    expect((err as Error).message).toContain("nothing restored");
    expect(digestSync(env.dir)).toEqual(before);
    expect(readdirSync(env.sessionsDir)).toEqual(["acme"]);
    expect(env.store.leases.get("acme")).toBeUndefined();
  });

  it("refuses while a worker holds the company", async () => {
    const env = await setup();
    await backupOf(env);
    holdAsWorker(env);
    await expect(restore(env)).rejects.toThrow(/acme is connected/);
    expect(readdirSync(env.sessionsDir)).toEqual(["acme"]);
  });

  it("after a crash between the two renames, recovery puts the complete restored folder in place", async () => {
    const env = await setup();
    const created = await backupOf(env);
    const original = digestSync(env.dir);
    addFiles(env.dir, ["pre-key-9999.json"]); // the "current" folder differs from the backup
    const staged = path.join(env.sessionsDir, ".warden-tmp-restored-acme-x");
    const old = path.join(env.sessionsDir, ".warden-tmp-replaced-acme-x");
    await extractBackup(created.path, staged);
    mkdirSync(path.join(env.home, "restores"));
    const aside = path.join(env.home, "replaced", "acme", "x-before-restore");
    writeFileSync(
      path.join(env.home, "restores", "acme.json"),
      JSON.stringify({ company: "acme", staged, old, aside }),
    );
    renameSync(env.dir, old); // ...and the process died here
    expect(await finishInterruptedRestore(env.home, env.sessionsDir, "acme")).toContain("rolled forward");
    expect(digestSync(env.dir)).toEqual(original);
    expect(digestSync(aside).has("pre-key-9999.json")).toBe(true);
    expect(readdirSync(env.sessionsDir)).toEqual(["acme"]);
    expect(await finishInterruptedRestore(env.home, env.sessionsDir, "acme")).toBeNull();
  });

  it("a crash before the swap leaves the old folder and drops the staged copy", async () => {
    const env = await setup();
    const created = await backupOf(env);
    addFiles(env.dir, ["pre-key-9999.json"]);
    const current = digestSync(env.dir);
    const staged = path.join(env.sessionsDir, ".warden-tmp-restored-acme-y");
    await extractBackup(created.path, staged);
    mkdirSync(path.join(env.home, "restores"));
    const journal = {
      company: "acme",
      staged,
      old: `${staged}-old`,
      aside: path.join(env.home, "replaced", "y"),
    };
    writeFileSync(path.join(env.home, "restores", "acme.json"), JSON.stringify(journal));
    expect(await finishInterruptedRestore(env.home, env.sessionsDir, "acme")).toContain("rolled back");
    expect(digestSync(env.dir)).toEqual(current);
    expect(readdirSync(env.sessionsDir)).toEqual(["acme"]);
  });
});

describe("warden CLI: cleanup, backup, backups, verify, restore", () => {
  it("cleanup --dry-run --json prints the plan contract and changes nothing", async () => {
    const env = await setup();
    const cli = { WARDEN_CONFIG: env.configFile, WARDEN_HOME: env.home };
    const before = digestSync(env.dir);
    const run = await runCli(["cleanup", "acme", "--dry-run", "--json"], cli);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      company: string;
      delete: { file: string; category: string; reason: string }[];
      keepCount: number;
    };
    expect(out.company).toBe("acme");
    expect(out.delete.length).toBeGreaterThan(70);
    expect(Object.keys(out.delete[0] ?? {}).sort()).toEqual(["category", "file", "reason"]);
    expect(out.keepCount).toBe(before.size - out.delete.length);
    expect(digestSync(env.dir)).toEqual(before);
  });

  it("backup --all, backups, verify, then a tampered backup fails verify and restore (exit 1, folder untouched)", async () => {
    const env = await setup();
    mkdirSync(path.join(env.sessionsDir, "beta"));
    await createCompanyFolder(path.join(env.sessionsDir, "beta"), { preKeys: 3 });
    const cli = { WARDEN_CONFIG: env.configFile, WARDEN_HOME: env.home, WARDEN_BACKUP_KEY: KEY };
    const all = await runCli(["backup", "--all"], cli);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("2 of 2 companies backed up");
    expect(all.stderr).toContain("backup: 2/2");
    const list = JSON.parse((await runCli(["backups", "acme", "--json"], cli)).stdout) as {
      backups: { name: string; encrypted: boolean }[];
    };
    expect(list.backups).toHaveLength(1);
    expect(list.backups[0]?.encrypted).toBe(true);
    const name = list.backups[0]?.name as string;
    const ok = await runCli(["verify", "acme"], cli);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^OK {4}\S+ \(\d+ files\)/);

    const file = (await listBackups(env.backupsRoot, "acme"))[0]?.path as string;
    const bytes = readFileSync(file);
    bytes.writeUInt8((bytes.at(40) ?? 0) ^ 0x80, 40);
    writeFileSync(file, bytes);
    const bad = await runCli(["verify", "acme", name], cli);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`FAIL  ${name}`);
    const before = digestSync(env.dir);
    const restore = await runCli(["restore", "acme", name], cli);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain("failed verification, nothing restored");
    expect(digestSync(env.dir)).toEqual(before);
  });

  it("bad input: a path as company id (exit 2), an unknown company, an unknown backup, a connected company (exit 1)", async () => {
    const env = await setup();
    const cli = { WARDEN_CONFIG: env.configFile, WARDEN_HOME: env.home };
    const traversal = await runCli(["cleanup", "../etc"], cli);
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toContain('Invalid company id "../etc"');
    const unknown = await runCli(["backup", "nobody"], cli);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown company "nobody"');
    const noBackup = await runCli(["restore", "acme", "20260101T000000000Z-manual.tar.gz"], cli);
    expect(noBackup.code).toBe(1);
    expect(noBackup.stderr).toContain('No backup "20260101T000000000Z-manual.tar.gz" for acme');
    const misuse = await runCli(["backups", "acme", "--force"], cli);
    expect(misuse.code).toBe(2);
    holdAsWorker(env);
    const connected = await runCli(["cleanup", "acme"], cli);
    expect(connected.code).toBe(1);
    expect(connected.stderr).toContain("npm run warden -- stop acme");
  });
});
