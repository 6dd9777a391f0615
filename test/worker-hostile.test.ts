/**
 * Invariant 2 in a worker: one worker with one FIFO creds.json. Before the fix the worker blocked in open()
 * on the FIFO: its heartbeat stopped, healthy companies after it were never started, and SIGTERM
 * logged "Stopped" without exiting. Item 5: a creds.json that is a symlink is never followed.
 * The worker runs as its own process (src/worker/main.ts, simulated driver) as pm2 runs it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { symlinkSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/store/store.js";
import { entryArgs } from "./helpers/entry.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { mkfifo, releaseFifoReaders } from "./helpers/hostile.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { waitFor } from "./helpers/wait-for.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
let fx: FleetFixture | undefined;
let store: Store | undefined;
let child: ChildProcess | undefined;
const fifos: string[] = [];

afterEach(async () => {
  for (const fifo of fifos.splice(0)) releaseFifoReaders(fifo);
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  child = undefined;
  store?.close();
  store = undefined;
  await fx?.cleanup();
});

describe("a worker with a hostile creds.json", () => {
  it("keeps serving its other companies, heartbeats, and exits on SIGTERM", async () => {
    fx = new FleetFixture({
      workers: { heartbeatEvery: "200ms", controlPollEvery: "50ms", leaseTtl: "5s", deadAfter: "10s" },
      simulation: { connectAfter: "20ms", initialPreKeys: 0 },
    });
    const good = ["good-1", "good-2", "good-3", "good-4"];
    for (const id of good) await createPairedFolder(path.join(fx.sessionsDir, id));
    const fifoCreds = path.join(fx.sessionsDir, "bad-fifo", "creds.json");
    await createPairedFolder(path.join(fx.sessionsDir, "bad-fifo"));
    const { rmSync } = await import("node:fs");
    rmSync(fifoCreds);
    mkfifo(fifoCreds);
    fifos.push(fifoCreds);
    // A creds.json that is a symlink to a paired creds.json elsewhere: never followed (item 5).
    await createPairedFolder(path.join(fx.root, "elsewhere"));
    await createPairedFolder(path.join(fx.sessionsDir, "bad-link"));
    rmSync(path.join(fx.sessionsDir, "bad-link", "creds.json"));
    symlinkSync(
      path.join(fx.root, "elsewhere", "creds.json"),
      path.join(fx.sessionsDir, "bad-link", "creds.json"),
    );

    const proc = spawn(process.execPath, entryArgs("src/worker/main.ts"), {
      cwd: repoRoot,
      env: {
        ...process.env,
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: fx.home,
        WARDEN_DRIVER: "simulated",
        NODE_APP_INSTANCE: "0",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    let log = "";
    proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      log += chunk;
    });
    proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      log += chunk;
    });
    const exited = new Promise<number | null>((resolve) => proc.on("close", resolve));

    await waitFor(() => /"Ready"/.test(log), { timeoutMs: 30_000, what: `worker ready; log: ${log}` });
    const db = openStore(path.join(fx.home, "warden.db"));
    store = db;
    for (const id of good) {
      await waitFor(() => db.connections.get(id)?.state === "open", {
        timeoutMs: 20_000,
        what: `${id} open`,
      });
    }
    // The heartbeat keeps moving.
    const beatOf = () => db.workers.list().find((w) => w.pid === proc.pid)?.heartbeatAt ?? 0;
    const first = beatOf();
    await waitFor(() => beatOf() > first, { timeoutMs: 10_000, what: "a later heartbeat" });
    // The bad companies never connected, and say why.
    const reasons = (id: string) =>
      db.connections
        .transitionsOf(id)
        .map((t) => t.message ?? "")
        .join("\n");
    await waitFor(() => /is a FIFO \(named pipe\): not read/.test(reasons("bad-fifo")), {
      timeoutMs: 10_000,
      what: "the FIFO named in bad-fifo's transitions",
    });
    await waitFor(() => /is a symlink \(never followed\): not read/.test(reasons("bad-link")), {
      timeoutMs: 10_000,
      what: "the symlink named in bad-link's transitions",
    });
    expect(db.connections.get("bad-fifo")?.state).not.toBe("open");
    expect(db.connections.get("bad-link")?.state).not.toBe("open");

    proc.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 20_000)),
    ]);
    expect(code).toBe(0);
  }, 90_000);
});
