import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { entryArgs } from "./helpers/entry.js";
import { TEST_TOKEN } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

const repo = path.resolve(import.meta.dirname, "..");
let root: string;
const children: ChildProcess[] = [];

function setup(config: unknown): { env: NodeJS.ProcessEnv; sessions: string; home: string } {
  root = mkdtempSync(path.join(os.tmpdir(), "warden-proc-"));
  const sessions = path.join(root, "sessions");
  const home = path.join(root, "data");
  mkdirSync(path.join(root, "config"), { recursive: true });
  mkdirSync(sessions);
  const file = path.join(root, "config", "warden.json");
  writeFileSync(
    file,
    typeof config === "string"
      ? config
      : JSON.stringify({ sessionsDir: sessions, http: { listen: null }, ...(config as object) }),
  );
  return {
    env: { ...process.env, WARDEN_CONFIG: file, WARDEN_HOME: home, LOG_LEVEL: "info" },
    sessions,
    home,
  };
}

function startSupervisor(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, entryArgs("src/supervisor/main.ts"), {
    cwd: repo,
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  children.push(child);
  const out: string[] = [];
  child.stdout?.on("data", (d: Buffer) => out.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => out.push(d.toString()));
  const ready = new Promise<void>((resolve) => child.on("message", (m) => m === "ready" && resolve()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out, ready, exited };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

describe("warden-supervisor process", () => {
  it("signals ready once serving, logs the first scan done after it, then exits 0 on SIGTERM with alerts flushed", async () => {
    const api = new BotApiServer();
    await api.start();
    try {
      const { env, sessions, home } = setup({
        preKeyReserve: 0,
        count: { basis: "counted" },
        telegram: { chatIds: [-1001] },
      });
      mkdirSync(path.join(sessions, "acme"));
      for (let i = 0; i < 151; i++) writeFileSync(path.join(sessions, "acme", `session-${i}.0.json`), "{}");
      const proc = startSupervisor({
        ...env,
        TELEGRAM_BOT_TOKEN: TEST_TOKEN,
        TELEGRAM_API_ROOT: api.apiRoot,
      });
      await proc.ready;
      // Ready means serving; the first scan is stored when "First scan done" is logged, after it.
      await waitFor(() => proc.out.join("").includes("First scan done"), { what: "first scan done" });
      const readyAt = proc.out.join("").indexOf("Ready: serving");
      expect(readyAt).toBeGreaterThan(-1);
      expect(proc.out.join("").indexOf("First scan done")).toBeGreaterThan(readyAt);
      const db = new Database(path.join(home, "warden.db"), { readonly: true });
      expect(db.prepare("SELECT total FROM companies WHERE id = 'acme'").get()).toEqual({ total: 151 });
      db.close();
      await waitFor(() => api.messages.length === 1, { what: "warning delivered" });
      proc.child.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      const log = proc.out.join("");
      expect(log).toContain("Stopped");
      expect(log).not.toContain(TEST_TOKEN);
      // No WARDEN_BACKUP_KEY: said at start, not discovered in a leaked archive.
      expect(log).toContain("WARDEN_BACKUP_KEY is not set: backups");
    } finally {
      await api.stop();
    }
  });

  it("measures event-loop blocks from the moment it serves: the HTTP side's start-up load is not one", async () => {
    // Loading fastify and its dependencies evaluates them in one synchronous go (~130 ms built,
    // more under tsx) before anything waits on the loop; counted as a block, it was warned about on
    // every start. The longest block is asked for over IPC (as bench:fleet does) at once at ready.
    const { env } = setup({ http: { listen: "127.0.0.1:0" } });
    const proc = startSupervisor(env);
    const reply = new Promise<unknown>((resolve) =>
      proc.child.on("message", (m) => typeof m === "object" && m !== null && "loopMaxMs" in m && resolve(m)),
    );
    await proc.ready;
    proc.child.send("loop-max");
    const { loopMaxMs } = (await reply) as { loopMaxMs: number };
    expect(proc.out.join("")).toContain("HTTP listening on http://127.0.0.1:");
    expect(loopMaxMs).toBeLessThan(50);
    await waitFor(() => proc.out.join("").includes("First scan done"), { what: "first scan done" });
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  it("exits 78 naming a secret file others can read, and the fix", async () => {
    const { env, home } = setup({});
    const secret = path.join(home, "..", "bot-token");
    writeFileSync(secret, TEST_TOKEN, { mode: 0o644 });
    chmodSync(secret, 0o644);
    const proc = startSupervisor({ ...env, TELEGRAM_BOT_TOKEN: "", TELEGRAM_BOT_TOKEN_FILE: secret });
    expect(await proc.exited).toBe(78);
    const log = proc.out.join("");
    expect(log).toContain(`TELEGRAM_BOT_TOKEN_FILE=${path.resolve(secret)}: mode 0644`);
    expect(log).toContain("chmod 600");
    expect(log).not.toContain(TEST_TOKEN);
  });

  it("exits 78 naming the file and key when the config is invalid", async () => {
    const { env } = setup({
      thresholds: { monitor: 120, warning: 100, critical: 180, fatal: 200 },
      bogus: 1,
    });
    const proc = startSupervisor(env);
    expect(await proc.exited).toBe(78);
    const log = proc.out.join("");
    expect(log).toContain("warden.json");
    expect(log).toContain("bogus");
  });

  it("applies a good config edit without restart and keeps the last good config on a bad one", async () => {
    const { env, sessions, home } = setup({ preKeyReserve: 0, count: { basis: "counted" } });
    mkdirSync(path.join(sessions, "acme"));
    for (let i = 0; i < 60; i++) writeFileSync(path.join(sessions, "acme", `session-${i}.0.json`), "{}");
    const proc = startSupervisor(env);
    await proc.ready;
    const file = env.WARDEN_CONFIG as string;
    writeFileSync(
      file,
      JSON.stringify({
        sessionsDir: sessions,
        preKeyReserve: 0,
        count: { basis: "counted" },
        thresholds: { monitor: 50, warning: 150, critical: 180, fatal: 200 },
      }),
    );
    const db = new Database(path.join(home, "warden.db"), { readonly: true });
    const level = () =>
      (db.prepare("SELECT level FROM alert_state WHERE company = 'acme'").get() as { level: string }).level;
    expect(level()).toBe("ok");
    await waitFor(() => level() === "monitor", { what: "monitor level after the edit" });
    writeFileSync(file, "{ not json");
    await waitFor(
      () =>
        (
          db.prepare("SELECT COUNT(*) AS n FROM process_events WHERE kind = 'config-invalid'").get() as {
            n: number;
          }
        ).n === 1,
      { what: "config-invalid event" },
    );
    db.close();
    expect(proc.child.exitCode).toBeNull();
    expect(proc.out.join("")).toContain("keeping the last good config");
    proc.child.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  });
});

/** The packages imported by name, recorded by a module hook (a file of specifiers, one a line). */
function recordPackages(dir: string): { env: NodeJS.ProcessEnv; read: () => string[] } {
  const list = path.join(dir, "packages.txt");
  writeFileSync(list, "");
  writeFileSync(
    path.join(dir, "record-hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  if (!/^(\\.|\\/|node:|file:|data:)/.test(specifier)) appendFileSync(${JSON.stringify(list)}, specifier + "\\n");
  return next(specifier, context);
}
`,
  );
  writeFileSync(
    path.join(dir, "record-packages.mjs"),
    'import { register } from "node:module";\nregister("./record-hooks.mjs", import.meta.url);\n',
  );
  return {
    env: { NODE_OPTIONS: `--import=${path.join(dir, "record-packages.mjs")}` },
    read: () => readFileSync(list, "utf8").split("\n").filter(Boolean),
  };
}

describe("warden-supervisor without the optional parts", () => {
  it("loads no HTTP, Telegram, PostgreSQL or tar package without http.listen, a token or WARDEN_PG_URL", async () => {
    const { env } = setup({});
    const packages = recordPackages(root);
    const proc = startSupervisor({ ...env, ...packages.env, TELEGRAM_BOT_TOKEN: "", WARDEN_PG_URL: "" });
    await proc.ready;
    // After the first scan the ladder, the probe and scheduled backups start too.
    await waitFor(() => proc.out.join("").includes("First scan done"), { what: "first scan done" });
    const loaded = new Set(packages.read().map((s) => s.split("/")[0]));
    // The hook sees what the supervisor needs...
    expect(loaded).toContain("better-sqlite3");
    expect(loaded).toContain("chokidar");
    // ...and not what they would load: each is imported when its part starts (README "Memory").
    for (const name of ["fastify", "prom-client", "qrcode", "node-telegram-bot-api", "pg", "tar"])
      expect(loaded, name).not.toContain(name);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});

describe("pm2 ecosystem", () => {
  const pm2Home = mkdtempSync(path.join(os.tmpdir(), "warden-pm2-"));
  const pm2 = path.join(repo, "node_modules", ".bin", "pm2");
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    execFileSync(
      process.execPath,
      [path.join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: repo,
      },
    );
  });

  afterAll(() => {
    try {
      execFileSync(pm2, ["kill"], { env: { ...process.env, PM2_HOME: pm2Home }, stdio: "ignore" });
    } finally {
      rmSync(pm2Home, { recursive: true, force: true });
    }
  });

  it("starts warden-supervisor (online once serving) and stops it cleanly", () => {
    const s = setup({});
    env = { ...s.env, PM2_HOME: pm2Home };
    delete env.TELEGRAM_BOT_TOKEN;
    execFileSync(pm2, ["start", "ecosystem.config.cjs"], { cwd: repo, env, stdio: "pipe" });
    const list = JSON.parse(execFileSync(pm2, ["jlist"], { cwd: repo, env }).toString()) as {
      name: string;
      pm2_env: { status: string; restart_time: number; node_args: string[] };
    }[];
    const app = list.find((a) => a.name === "warden-supervisor");
    expect(app?.pm2_env.status).toBe("online");
    expect(app?.pm2_env.restart_time).toBe(0);
    // The node flags pm2 starts it with: the young generation capped (README "Memory"). (Its
    // /proc cmdline cannot tell: pm2 overwrites it with the process title.)
    expect(app?.pm2_env.node_args).toEqual(["--max-semi-space-size=2"]);
    execFileSync(pm2, ["stop", "ecosystem.config.cjs"], { cwd: repo, env, stdio: "pipe" });
    const after = JSON.parse(execFileSync(pm2, ["jlist"], { cwd: repo, env }).toString()) as typeof list;
    expect(after.find((a) => a.name === "warden-supervisor")?.pm2_env.status).toBe("stopped");
  });
});
