import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// A new operator's first steps: `npm start` and `npm run demo` as a new operator runs them, with real pm2
// (every daemon in an isolated PM2_HOME under a temp dir).
const repo = path.resolve(import.meta.dirname, "..");
const pm2Bin = path.join(repo, "node_modules", ".bin", "pm2");
const tsx = path.join(repo, "node_modules", ".bin", "tsx");
const root = mkdtempSync(path.join(os.tmpdir(), "warden-start-"));
const prodPm2 = path.join(root, "pm2");
const configFile = path.join(root, "config", "warden.json");
const baseEnv: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PM2_HOME: prodPm2,
  WARDEN_CONFIG: configFile,
  WARDEN_HOME: path.join(root, "data"),
  WARDEN_DRIVER: "simulated",
  WARDEN_WORKER_KILL_TIMEOUT_MS: "3000",
  TELEGRAM_BOT_TOKEN: "",
  // Nothing listens there: a token given in the test must never reach a real Bot API.
  TELEGRAM_API_ROOT: "http://127.0.0.1:1",
};
const run = promisify(execFile);

type Proc = {
  name: string;
  pid: number;
  pm2_env: { status: string; env?: Record<string, string> } & Record<string, unknown>;
};
const jlist = (home: string): Proc[] =>
  JSON.parse(
    execFileSync(pm2Bin, ["jlist"], { cwd: repo, env: { ...baseEnv, PM2_HOME: home } })
      .toString()
      .trim()
      .split("\n")
      .at(-1) ?? "[]",
  );

/**
 * Production's warden.json with `instances` workers. HTTP on a free port: the default 127.0.0.1:9480
 * may be taken by another supervisor on this machine (another suite), and a supervisor that
 * cannot listen exits, which pm2 shows as a restart loop (pids change, status "launching").
 */
const prodConfig = (instances: number) => ({
  sessionsDir: path.join(root, "sessions"),
  workers: { instances },
  http: { listen: "127.0.0.1:0" },
});

function writeConfig(config: unknown): void {
  mkdirSync(path.dirname(configFile), { recursive: true });
  writeFileSync(configFile, typeof config === "string" ? config : JSON.stringify(config));
}

function npmStart(env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(tsx, ["scripts/start.ts", "--no-build"], { cwd: repo, env: { ...baseEnv, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const envOf = (p: Proc, name: string) => (p.pm2_env[name] as string | undefined) ?? p.pm2_env.env?.[name];

// dist/ (which pm2 runs, hence --no-build) was built once for the suite by test/global-build.ts.

afterAll(() => {
  for (const home of [prodPm2, path.join(root, "demo", "pm2")]) {
    try {
      execFileSync(pm2Bin, ["kill"], { env: { ...baseEnv, PM2_HOME: home }, stdio: "ignore" });
    } catch {
      // That daemon was never started.
    }
  }
  rmSync(root, { recursive: true, force: true });
});

describe("npm start", () => {
  it("refuses a broken config with exit 78 and the readable message, before touching pm2 (trap 3)", async () => {
    writeConfig('{ "sessionsDir": "sessions", "thresholds": { "warning": "many" } }');
    const r = await npmStart({});
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`Configuration error in ${configFile}:`);
    expect(r.stderr).toMatch(/thresholds\.warning/);
    expect(r.stdout).not.toMatch(/Started|launched/);
  }, 60_000);

  it("runs the apps with the current shell's environment and workers.instances on every start (trap 1)", async () => {
    writeConfig(prodConfig(1));
    const first = await npmStart({});
    expect(first.code, first.stderr).toBe(0);
    let procs = jlist(prodPm2);
    expect(procs.filter((p) => p.name === "warden-worker")).toHaveLength(1);
    const sup = procs.find((p) => p.name === "warden-supervisor") as Proc;
    expect(envOf(sup, "TELEGRAM_BOT_TOKEN") ?? "").toBe("");

    // The operator follows "To send them to Telegram" and asks for a second worker.
    writeConfig(prodConfig(2));
    const second = await npmStart({
      TELEGRAM_BOT_TOKEN: "123456:ABC-test",
      WARDEN_HTTP_TOKEN: "http-test-token",
      WARDEN_BACKUP_KEY: "backup-pass",
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("Restarted");
    expect(second.stdout).toContain("backups:  encrypted");
    procs = jlist(prodPm2);
    const workers = procs.filter((p) => p.name === "warden-worker");
    expect(workers).toHaveLength(2);
    const supervisors = procs.filter((p) => p.name === "warden-supervisor");
    expect(supervisors).toHaveLength(1);
    expect(envOf(supervisors[0] as Proc, "TELEGRAM_BOT_TOKEN")).toBe("123456:ABC-test");
    expect(envOf(supervisors[0] as Proc, "WARDEN_HTTP_TOKEN")).toBe("http-test-token");
    // Per-app environments: the workers get neither token, in pm2's record nor in the process.
    for (const w of workers) {
      expect(envOf(w, "TELEGRAM_BOT_TOKEN")).toBeUndefined();
      expect(envOf(w, "WARDEN_HTTP_TOKEN")).toBeUndefined();
      expect(envOf(w, "WARDEN_BACKUP_KEY")).toBe("backup-pass"); // it seals creds snapshots
      const environ = readFileSync(`/proc/${w.pid}/environ`, "utf8").split("\0");
      expect(environ.some((v) => v.startsWith("TELEGRAM_BOT_TOKEN="))).toBe(false);
      expect(environ.some((v) => v.startsWith("WARDEN_HTTP_TOKEN="))).toBe(false);
      expect(environ.join("\n")).not.toContain("123456:ABC-test");
      expect(environ.join("\n")).not.toContain("http-test-token");
    }
  }, 180_000);

  it("npm stop works with a broken config, and npm start brings the apps back with it fixed", async () => {
    writeConfig("{ not json");
    execFileSync(pm2Bin, ["stop", "ecosystem.config.cjs"], { cwd: repo, env: baseEnv, stdio: "pipe" });
    expect(jlist(prodPm2).map((p) => p.pm2_env.status)).toEqual(["stopped", "stopped", "stopped"]);
    writeConfig(prodConfig(2));
    const again = await npmStart({ TELEGRAM_BOT_TOKEN: "123456:ABC-test" });
    expect(again.code, again.stderr).toBe(0);
    expect(jlist(prodPm2).map((p) => p.pm2_env.status)).toEqual(["online", "online", "online"]);
  }, 180_000);
});

describe("npm run demo", () => {
  it("runs apart from production and demo:stop ends only the demo (trap 2)", async () => {
    const before = jlist(prodPm2).map((p) => [p.name, p.pid] as const);
    expect(before.length).toBeGreaterThan(0);
    const demoDir = path.join(root, "demo");
    await run(tsx, ["scripts/demo.ts", "start", "--dir", demoDir, "--no-build"], { cwd: repo, env: baseEnv });
    const demoProcs = jlist(path.join(demoDir, "pm2"));
    expect(demoProcs.map((p) => p.name).sort()).toEqual([
      "warden-supervisor",
      "warden-worker",
      "warden-worker",
    ]);
    for (const p of demoProcs) {
      expect(envOf(p, "WARDEN_HOME")).toBe(path.join(demoDir, "data"));
      expect(envOf(p, "WARDEN_CONFIG")).toBe(path.join(demoDir, "config", "warden.json"));
    }
    // Production: the same processes, same pids, same environment.
    const prod = jlist(prodPm2);
    expect(prod.map((p) => [p.name, p.pid] as const)).toEqual(before);
    for (const p of prod) expect(envOf(p, "WARDEN_HOME")).toBe(baseEnv.WARDEN_HOME);

    const stopped = await run(tsx, ["scripts/demo.ts", "stop", "--dir", demoDir], {
      cwd: repo,
      env: baseEnv,
    });
    expect(stopped.stdout).toContain("Demo stopped");
    expect(jlist(prodPm2).map((p) => [p.name, p.pid] as const)).toEqual(before);
  }, 180_000);
});
