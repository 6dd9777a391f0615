/**
 * Invariant 15: warden.db deleted under a running supervisor is detected (it stops,
 * exit 1, with a clear message, instead of writing to a deleted file); a read-only mount is named
 * as such; the database and its WAL files are 0600 whatever the umask.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/store/store.js";
import { entryArgs } from "./helpers/entry.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { mountTmpfs } from "./helpers/prerequisite.js";
import { waitFor } from "./helpers/wait-for.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "warden-db-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe("database file modes (item 12)", () => {
  it("creates warden.db, its WAL and shared-memory files 0600", () => {
    const file = path.join(tempDir(), "warden.db");
    const store = openStore(file);
    try {
      store.events.add(Date.now(), "test", "x", "a write so the WAL exists");
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(`${file}-wal`)).toBe(0o600);
      expect(modeOf(`${file}-shm`)).toBe(0o600);
    } finally {
      store.close();
    }
  });

  it("tightens an existing 0644 database to 0600", () => {
    const file = path.join(tempDir(), "warden.db");
    openStore(file).close();
    chmodSync(file, 0o644);
    const store = openStore(file);
    store.close();
    expect(modeOf(file)).toBe(0o600);
  });
});

describe("a read-only mount (item 11)", () => {
  it("names the file and the cause instead of 'unable to open database file'", (ctx) => {
    const mount = tempDir();
    mountTmpfs(ctx, mount, "4m", (fn) => cleanups.push(fn));
    mkdirSync(path.join(mount, "home"));
    const file = path.join(mount, "home", "warden.db");
    openStore(file).close();
    execFileSync("mount", ["-o", "remount,ro", mount]);
    expect(() => openStore(file)).toThrow(/on a read-only file system \(EROFS\): mount it read-write/);
    expect(() => openStore(file)).toThrow(file);
  });
});

describe("warden.db deleted while the supervisor runs (item 7)", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("is detected: the supervisor says so and stops with exit 1", async () => {
    const fx = new FleetFixture({});
    cleanups.push(() => void fx.cleanup());
    fx.setFileCount("acme", 10);
    const proc = spawn(process.execPath, entryArgs("src/supervisor/main.ts"), {
      cwd: repoRoot,
      env: {
        ...process.env,
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: fx.home,
        LOG_LEVEL: "info",
        TELEGRAM_BOT_TOKEN: "",
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child = proc;
    let log = "";
    proc.stdout?.setEncoding("utf8").on("data", (c: string) => {
      log += c;
    });
    proc.stderr?.setEncoding("utf8").on("data", (c: string) => {
      log += c;
    });
    const exited = new Promise<number | null>((resolve) => proc.on("close", resolve));
    await waitFor(() => log.includes("First scan done"), {
      timeoutMs: 30_000,
      what: `ready; log: ${log}`,
    });
    const db = path.join(fx.home, "warden.db");
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running after 30 s"), 30_000).unref()),
    ]);
    expect(code).toBe(1);
    expect(log).toContain(`${db} was deleted while in use`);
    expect(log).toContain("wa-warden supervisor stopped");
  }, 60_000);
});

describe("unencrypted creds snapshots (item 12)", () => {
  it("credsSnapshotsEncrypted warns without a key, and about plain rows left from before the key", async () => {
    const { credsSnapshotsEncrypted } = await import(
      "../src/worker/creds-snapshots/creds-snapshot-encryption.js"
    );
    const store = openStore(path.join(tempDir(), "warden.db"));
    try {
      expect(credsSnapshotsEncrypted(store, true)).toEqual({ keySet: true, plainRows: 0, warning: null });
      expect(credsSnapshotsEncrypted(store, false).warning).toContain("WARDEN_BACKUP_KEY is not set");
      store.credsSnapshots.put(
        {
          company: "acme",
          file: "creds.json",
          sha256: "a".repeat(64),
          data: Buffer.from("{}"),
          encrypted: false,
        },
        5,
        Date.now(),
      );
      const withKey = credsSnapshotsEncrypted(store, true);
      expect(withKey.plainRows).toBe(1);
      expect(withKey.warning).toContain(
        "1 creds snapshot(s) in warden.db were stored before WARDEN_BACKUP_KEY was set",
      );
    } finally {
      store.close();
    }
  });

  it("the supervisor warns at start-up when creds snapshots are unencrypted", async () => {
    const fx = new FleetFixture({});
    cleanups.push(() => void fx.cleanup());
    const proc = spawn(process.execPath, entryArgs("src/supervisor/main.ts"), {
      cwd: repoRoot,
      env: {
        ...process.env,
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: fx.home,
        LOG_LEVEL: "info",
        WARDEN_BACKUP_KEY: "",
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let log = "";
    proc.stdout?.setEncoding("utf8").on("data", (c: string) => {
      log += c;
    });
    const exited = new Promise<number | null>((resolve) => proc.on("close", resolve));
    try {
      await waitFor(() => log.includes("First scan done"), { timeoutMs: 30_000, what: "ready" });
      expect(log).toContain("creds-snapshots-unencrypted");
    } finally {
      proc.kill("SIGTERM");
      await exited;
    }
  }, 60_000);
});
