import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ownerInstance } from "../src/worker/disconnect-policy.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { waitFor } from "./helpers/wait-for.js";

// Real pm2 (isolated PM2_HOME): supervisor + 2 worker instances on simulated companies.
const repo = path.resolve(import.meta.dirname, "..");
const pm2Bin = path.join(repo, "node_modules", ".bin", "pm2");
const root = mkdtempSync(path.join(os.tmpdir(), "warden-fleet-"));
const sessions = path.join(root, "sessions");
const home = path.join(root, "data");
const configFile = path.join(root, "config", "warden.json");
const env = {
  ...process.env,
  PM2_HOME: path.join(root, "pm2"),
  WARDEN_CONFIG: configFile,
  WARDEN_HOME: home,
  WARDEN_DRIVER: "simulated",
  // Long enough for a graceful stop on a loaded machine (past it pm2 SIGKILLs the worker and its
  // leases stay until they expire); short enough that the hung (SIGSTOPped) worker is replaced soon.
  WARDEN_WORKER_KILL_TIMEOUT_MS: "10000",
  TELEGRAM_BOT_TOKEN: "",
};
const companies = ["acme", "bistro", "cargo", "delta", "echo", "foxtrot", "golf", "hotel"];
let db: Database.Database;

const pm2 = (...args: string[]) => execFileSync(pm2Bin, args, { cwd: repo, env, stdio: "pipe" }).toString();
type Proc = {
  name: string;
  pid: number;
  pm_id: number;
  pm2_env: { status: string; NODE_APP_INSTANCE?: number; restart_time: number };
};
const jlist = () => JSON.parse(pm2("jlist")) as Proc[];
const query = <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[];
const openCompanies = () =>
  query<{ company: string }>("SELECT company FROM connection_state WHERE state = 'open'")
    .map((r) => r.company)
    .sort();

beforeAll(async () => {
  mkdirSync(path.dirname(configFile), { recursive: true });
  writeFileSync(
    configFile,
    JSON.stringify({
      sessionsDir: sessions,
      http: { listen: null },
      workers: {
        instances: 2,
        heartbeatEvery: "300ms",
        leaseTtl: "2s",
        deadAfter: "3s",
        controlPollEvery: "100ms",
      },
      simulation: { connectAfter: "50ms", initialPreKeys: 5 },
    }),
  );
  for (const c of companies) await createPairedFolder(path.join(sessions, c));
  // dist/, which ecosystem.config.cjs runs, was built once for the suite by test/global-build.ts.
  pm2("start", "ecosystem.config.cjs");
  db = new Database(path.join(home, "warden.db"), { readonly: true });
  db.pragma("busy_timeout = 5000");
}, 120_000);

afterAll(() => {
  db?.close();
  try {
    pm2("kill");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** Asserts no company was ever held by two holders at once (lease history intervals). */
function assertNoOverlap() {
  const rows = query<{ company: string; holder: string; acquired_at: number; released_at: number | null }>(
    "SELECT company, holder, acquired_at, released_at FROM lease_history ORDER BY company, acquired_at",
  );
  for (let i = 1; i < rows.length; i++) {
    const prev = rows[i - 1];
    const cur = rows[i];
    if (!prev || !cur || prev.company !== cur.company) continue;
    expect(
      prev.released_at,
      `${cur.company}: ${prev.holder} still held it when ${cur.holder} took it`,
    ).not.toBeNull();
    expect(cur.acquired_at).toBeGreaterThanOrEqual(prev.released_at as number);
  }
}

it("holds every company exactly once, survives kill -9 of a worker, answers control requests, and stops cleanly", async () => {
  const workers = () => jlist().filter((p) => p.name === "warden-worker");
  expect(workers()).toHaveLength(2);
  await waitFor(() => openCompanies().length === companies.length, {
    what: "every company open",
    timeoutMs: 30_000,
  });

  // Each company is held by the instance its id hashes to, once.
  const leases = query<{ company: string; holder: string }>(
    "SELECT company, holder FROM leases ORDER BY company",
  );
  expect(leases.map((l) => l.company)).toEqual([...companies].sort());
  for (const l of leases) expect(Number(l.holder.split("/")[1])).toBe(ownerInstance(l.company, 2));

  // kill -9 instance 1: pm2 restarts it, its leases expire and come back to the new process.
  const victim = workers().find((p) => p.pm2_env.NODE_APP_INSTANCE === 1) as Proc;
  const victimCompanies = leases.filter((l) => l.holder.split("/")[1] === "1").map((l) => l.company);
  process.kill(victim.pid, "SIGKILL");
  await waitFor(
    () => {
      const now = workers().find((p) => p.pm2_env.NODE_APP_INSTANCE === 1);
      return now && now.pid !== victim.pid && now.pm2_env.status === "online";
    },
    { what: "pm2 restarted the worker", timeoutMs: 30_000 },
  );
  await waitFor(
    () => {
      const held = query<{ company: string; holder: string }>("SELECT company, holder FROM leases");
      return victimCompanies.every((c) =>
        held.some((h) => h.company === c && !h.holder.endsWith(`/${victim.pid}`)),
      );
    },
    { what: "leases taken over by the new process", timeoutMs: 30_000 },
  );
  await waitFor(() => openCompanies().length === companies.length, {
    what: "every company open again",
    timeoutMs: 30_000,
  });
  assertNoOverlap();
  // The supervisor sees the killed process go silent, but pm2 already replaced it: no restart of
  // the healthy newcomer.
  const replacement = workers().find((p) => p.pm2_env.NODE_APP_INSTANCE === 1) as Proc;
  await waitFor(
    () => query<{ n: number }>("SELECT COUNT(*) AS n FROM workers WHERE status = 'dead'")[0]?.n === 1,
    {
      what: "killed worker declared dead",
      timeoutMs: 20_000,
    },
  );

  // A control request round trip through the CLI.
  const cli = execFileSync(
    process.execPath,
    [path.join(repo, "dist", "cli", "main.js"), "reconnect", "acme", "--json"],
    {
      cwd: repo,
      env,
    },
  ).toString();
  expect(JSON.parse(cli)).toMatchObject({ company: "acme", action: "reconnect", ok: true });

  // A silent (hung) worker is declared dead by the supervisor and restarted through pm2.
  const hung = workers().find((p) => p.pm2_env.NODE_APP_INSTANCE === 0) as Proc;
  process.kill(hung.pid, "SIGSTOP");
  await waitFor(
    () => query<{ n: number }>("SELECT COUNT(*) AS n FROM workers WHERE status = 'dead'")[0]?.n === 2,
    {
      what: "hung worker declared dead",
      timeoutMs: 20_000,
    },
  );
  await waitFor(() => workers().find((p) => p.pm2_env.NODE_APP_INSTANCE === 0)?.pid !== hung.pid, {
    what: "hung worker replaced",
    timeoutMs: 60_000,
  });
  expect(query<{ kind: string }>("SELECT kind FROM outbox").map((r) => r.kind)).toContain("worker-dead");
  expect(workers().find((p) => p.pm2_env.NODE_APP_INSTANCE === 1)?.pid).toBe(replacement.pid);
  const livePids = () => workers().map((p) => p.pid);
  await waitFor(
    () =>
      openCompanies().length === companies.length &&
      query<{ holder: string }>("SELECT holder FROM leases").every((l) =>
        livePids().includes(Number(l.holder.split("/")[2])),
      ),
    { what: "every company open under live workers", timeoutMs: 30_000 },
  );
  assertNoOverlap();

  // SIGINT through pm2 stop: sockets closed without logout, leases released, creds intact.
  pm2("stop", "ecosystem.config.cjs");
  await waitFor(() => query("SELECT * FROM leases").length === 0, {
    what: "every lease released by the stopping workers",
    timeoutMs: 15_000,
  });
  expect(query("SELECT * FROM leases")).toEqual([]);
  for (const c of companies) {
    const creds = JSON.parse(readFileSync(path.join(sessions, c, "creds.json"), "utf8"));
    expect(creds.registered).toBe(true);
    expect(creds).toHaveProperty("noiseKey");
  }
  const states = () =>
    query<{ state: string }>("SELECT DISTINCT state FROM connection_state").map((r) => r.state);
  await waitFor(() => states().join() === "offline", {
    what: "every company recorded offline by the stopping workers",
    timeoutMs: 15_000,
  }).catch(() => undefined); // the assertion below names what was left
  if (states().join() !== "offline") {
    // Name the companies left behind and how they got there, so a failure here can be explained.
    const left = query<{ company: string }>("SELECT company FROM connection_state WHERE state != 'offline'");
    for (const { company } of left)
      console.error(
        company,
        query(
          "SELECT at, from_state, to_state, code, message, holder FROM transitions WHERE company = ? ORDER BY id",
          company,
        ),
      );
  }
  expect(states()).toEqual(["offline"]);
}, 180_000);
