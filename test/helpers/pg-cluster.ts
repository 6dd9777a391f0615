/**
 * A real PostgreSQL 15 for tests, from Debian's `postgresql` package (/usr/lib/postgresql/15/bin):
 * initdb in a temp dir, a free port on 127.0.0.1, password authentication (scram), stopped and
 * removed at the end. initdb refuses to run as root, so as root the cluster is made and run by the
 * `postgres` user (runuser) in a temp dir it owns. A server that cannot start throws: the test
 * FAILS, it never skips (`.ci/run` installs the package when it is missing).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";

/** A running test cluster. */
export interface PgCluster {
  /** postgres://warden:<password>@127.0.0.1:<port>/warden */
  url: string;
  password: string;
  port: number;
  /** Stops the server (fast: connections are terminated, as a crash of the database would). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Runs SQL as the superuser through psql; returns stdout. */
  psql(sql: string): Promise<string>;
  /** Stops it and removes its files; idempotent. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as the `postgres` user when this process is root. */
async function pgBin(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const file = asRoot ? "runuser" : path.join(BIN, name);
  const argv = asRoot ? ["-u", "postgres", "--", path.join(BIN, name), ...args] : args;
  try {
    const { stdout } = await run(file, argv, { env: { ...process.env, ...env }, timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${name} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** Creates and starts a cluster; throws (never skips) when PostgreSQL 15 is missing or will not start. */
export async function startPgCluster(): Promise<PgCluster> {
  if (!existsSync(path.join(BIN, "initdb")))
    throw new Error(`${BIN}/initdb is missing: apt-get install -y postgresql (.ci/run does it)`);
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-pg-"));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? Number((await run("id", ["-u", "postgres"])).stdout.trim()) : undefined;
  const group = asRoot ? Number((await run("id", ["-g", "postgres"])).stdout.trim()) : undefined;
  if (owner !== undefined && group !== undefined) chownSync(root, owner, group);
  const data = path.join(root, "data");
  const password = `pw-${randomBytes(9).toString("hex")}`;
  const pwfile = path.join(root, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner !== undefined && group !== undefined) chownSync(pwfile, owner, group);
  await pgBin("initdb", [
    "-D",
    data,
    "-U",
    "warden",
    `--pwfile=${pwfile}`,
    "--auth=scram-sha-256",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  const port = await freePort();
  const log = path.join(root, "server.log");
  const start = async () => {
    await pgBin("pg_ctl", [
      "-D",
      data,
      "-l",
      log,
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root} -c fsync=on`,
      "start",
    ]);
  };
  const stop = async () => {
    await pgBin("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  };
  let destroyed = false;
  await start();
  const psql = (sql: string) =>
    pgBin("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "warden", "-d", "postgres", "-Atqc", sql], {
      PGPASSWORD: password,
    });
  await psql("CREATE DATABASE warden");
  return {
    url: `postgres://warden:${password}@127.0.0.1:${port}/warden`,
    password,
    port,
    stop,
    start,
    psql: (sql) =>
      pgBin("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "warden", "-d", "warden", "-Atqc", sql], {
        PGPASSWORD: password,
      }),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await pgBin("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
