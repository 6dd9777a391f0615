import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { entryArgs } from "./helpers/entry.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { telegramAlert } from "./helpers/outbox-rows.js";
import { runCli } from "./helpers/run-cli.js";
import { waitFor } from "./helpers/wait-for.js";

const repo = path.resolve(import.meta.dirname, "..");
let fx: FleetFixture;
afterEach(async () => {
  await fx?.cleanup();
});

const envOf = (f: FleetFixture, extra: Record<string, string> = {}) => ({
  WARDEN_CONFIG: f.configFile,
  WARDEN_HOME: f.home,
  TELEGRAM_BOT_TOKEN: "",
  WARDEN_HTTP_TOKEN: "",
  ...extra,
});

/** A fleet in the database: acme warning and down, beta ok and open, a cleanup running on acme. */
async function fleetInDatabase() {
  fx = new FleetFixture({ ...COUNT_EVERY_FILE, fleet: { probe: null } });
  fx.setFileCount("acme", 155);
  fx.setFileCount("beta", 5);
  const { supervisor, store } = await fx.startSupervisor({ token: null, watch: false });
  const now = Date.now();
  store.workers.register({ holder: "w0", instance: 0, pid: process.pid, pmId: null }, now);
  store.connections.transition({ company: "beta", to: "open", code: null, message: null, holder: "w0" }, now);
  store.connections.transition(
    { company: "acme", to: "close", code: 428, message: "closed", holder: "w0" },
    now - 120_000,
  );
  store.ladder.addStep("acme", "cleanup:smart", "critical", "decided", now - 30_000);
  // A backlog of exactly 2: acme's warning delivered to the log, then two Telegram alerts that
  // wait (no Telegram token, so no Telegram notifier; the CLI delivers nothing).
  await waitFor(() => store.outbox.pendingCount() === 0, { what: "the log alerts delivered" });
  store.outbox.add([telegramAlert("acme"), telegramAlert("beta")], now);
  await fx.stopSupervisor(supervisor);
}

describe("warden health", () => {
  it("--json: workers, outbox, outage, companies per level, companies down, ladder steps running", async () => {
    await fleetInDatabase();
    const run = await runCli(["health", "--json"], envOf(fx));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const h = JSON.parse(run.stdout);
    expect(h.workers).toEqual({ alive: 1, registered: 1 });
    expect(h.outbox).toEqual({ pending: 2 });
    expect(h.outage).toBeNull();
    expect(h.companyCount).toBe(2);
    expect(h.companies.map((c: { id: string }) => c.id)).toEqual(["acme", "beta"]);
    expect(h.levels).toEqual({ ok: 1, monitor: 0, warning: 1, critical: 0, fatal: 0 });
    expect(h.down).toEqual([{ id: "acme", state: "close", downSince: expect.any(Number) }]);
    expect(h.ladderRunning).toEqual([{ company: "acme", step: "cleanup:smart", since: expect.any(Number) }]);

    const text = await runCli(["health"], envOf(fx));
    expect(text.stdout).toContain("outbox     2 pending");
    expect(text.stdout).toContain("companies  2: ok 1, monitor 0, warning 1, critical 0, fatal 0");
    expect(text.stdout).toMatch(/down {7}1:\n {2}acme {2}close, down 2m/);
    expect(text.stdout).toContain("acme  cleanup:smart for");
  });

  it("--watch redraws until Ctrl-C, then exits 0", async () => {
    await fleetInDatabase();
    const child = spawn(process.execPath, [...entryArgs("src/cli/main.ts"), "health", "--watch"], {
      cwd: repo,
      env: { ...process.env, ...envOf(fx) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => out.split("\x1b[H\x1b[2J").length >= 3, { timeoutMs: 30_000, what: "two draws" });
      expect(out).toContain("wa-warden health");
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

describe("warden doctor", () => {
  const pm2Home = mkdtempSync(path.join(os.tmpdir(), "warden-doctor-pm2-"));
  const pm2 = path.join(repo, "node_modules", ".bin", "pm2");
  const app = path.join(pm2Home, "tiny-app.cjs");
  const api = new BotApiServer();
  let probeTarget: net.Server;

  beforeAll(async () => {
    writeFileSync(app, "setInterval(() => {}, 60_000);\n");
    await api.start();
    api.acceptOnlyToken("123456:GOOD-token-abcdefghijkl");
    api.unknownChat("-1002");
    // A chat whose getChat answers without error_code or description (a proxy, an emulator).
    api.refuseWithoutDescription("getChat", { chatId: "-1003" });
    probeTarget = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => probeTarget.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    try {
      execFileSync(pm2, ["kill"], { env: { ...process.env, PM2_HOME: pm2Home }, stdio: "ignore" });
    } finally {
      rmSync(pm2Home, { recursive: true, force: true });
    }
    await api.stop();
    probeTarget.close();
  });

  it("catches a pm2 app started with another WARDEN_HOME, a missing app and a wrong bot token (exit 1)", async () => {
    const port = (probeTarget.address() as net.AddressInfo).port;
    fx = new FleetFixture({
      fleet: { probe: { host: "127.0.0.1", port } },
      telegram: { chatIds: [-1001, -1002, -1003] },
    });
    fx.setFileCount("acme", 3);
    const { supervisor } = await fx.startSupervisor({ token: null, watch: false });
    await fx.stopSupervisor(supervisor);
    const otherHome = path.join(fx.root, "other-home");
    execFileSync(pm2, ["start", app, "--name", "warden-supervisor"], {
      env: {
        ...process.env,
        PM2_HOME: pm2Home,
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: otherHome,
        TELEGRAM_BOT_TOKEN: "",
      },
      stdio: "pipe",
    });

    const wrong = "654321:WRONG-token-abcdefghijkl";
    const run = await runCli(
      ["doctor"],
      envOf(fx, { PM2_HOME: pm2Home, TELEGRAM_BOT_TOKEN: wrong, TELEGRAM_API_ROOT: api.apiRoot }),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/ok {4}config/);
    expect(run.stdout).toContain(`WARDEN_HOME is ${otherHome}, this shell has ${fx.home}`);
    expect(run.stdout).toContain("TELEGRAM_BOT_TOKEN differs from this shell's");
    expect(run.stdout).toMatch(/FAIL {2}pm2 warden-worker +not registered in pm2/);
    expect(run.stdout).toMatch(/FAIL {2}telegram token +Telegram refused getMe \(HTTP 401\): Unauthorized/);
    expect(run.stdout).toContain("fix: the token is wrong or revoked");
    // Every fix runs as printed from this checkout, against this shell's pm2 daemon.
    expect(run.stdout).toContain(`run \`PM2_HOME=${pm2Home} npm start\` from this shell`);
    expect(run.stdout).not.toMatch(/`pm2 |pm2 delete|--update-env/);
    expect(run.stdout).toMatch(/ok {4}whatsapp probe/);
    expect(run.stdout).toMatch(/ok {4}database/);
    expect(run.stdout).toMatch(/ok {4}inotify +max_user_watches \d+, 1 company folders/);
    expect(run.stdout).toMatch(/ok {4}disk WARDEN_HOME/);
    expect(run.stdout + run.stderr).not.toContain(wrong);

    // A worker started with the whole shell environment holds the bot token: doctor says so.
    execFileSync(pm2, ["start", app, "--name", "warden-worker"], {
      env: {
        ...process.env,
        PM2_HOME: pm2Home,
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: fx.home,
        TELEGRAM_BOT_TOKEN: "123456:GOOD-token-abcdefghijkl",
      },
      stdio: "pipe",
    });
    // The right token: getMe passes; each chat is checked on its own.
    const good = await runCli(
      ["doctor", "--json"],
      envOf(fx, {
        PM2_HOME: pm2Home,
        TELEGRAM_BOT_TOKEN: "123456:GOOD-token-abcdefghijkl",
        TELEGRAM_API_ROOT: api.apiRoot,
      }),
    );
    expect(good.code).toBe(1);
    const checks = (JSON.parse(good.stdout) as { checks: { name: string; status: string; detail: string }[] })
      .checks;
    const byName = new Map(checks.map((c) => [c.name, c]));
    expect(byName.get("telegram token")?.status).toBe("ok");
    expect(byName.get("telegram chat -1001")?.status).toBe("ok");
    expect(byName.get("telegram chat -1002")).toMatchObject({
      status: "fail",
      detail: "Telegram refused getChat (HTTP 400): Bad Request: chat not found",
    });
    expect(byName.get("telegram chat -1003")).toMatchObject({
      status: "fail",
      detail: "Telegram refused getChat (HTTP 400): no description",
    });
    expect(byName.get("pm2 warden-supervisor")?.status).toBe("fail");
    expect(byName.get("pm2 warden-worker")?.detail).toContain(
      "holds TELEGRAM_BOT_TOKEN (a worker needs no token)",
    );
    expect(byName.get("backup encryption")?.status).toBe("warn");
  });
});

describe("warden test-alert", () => {
  it("sends one message to every configured chat and reports each (exit 1 when one fails)", async () => {
    const api = new BotApiServer();
    await api.start();
    try {
      fx = new FleetFixture({ telegram: { chatIds: [-1001, -1002] } });
      fx.writeCompanyConfig("acme", { telegram: { chatIds: [-1003] } });
      api.unknownChat("-1002");
      // A chat whose getChat answers without error_code or description (a proxy, an emulator).
      api.refuseWithoutDescription("getChat", { chatId: "-1003" });
      const run = await runCli(
        ["test-alert", "--json"],
        envOf(fx, { TELEGRAM_BOT_TOKEN: "123456:GOOD-token-abcdefghijkl", TELEGRAM_API_ROOT: api.apiRoot }),
      );
      expect(run.code).toBe(1);
      const { results } = JSON.parse(run.stdout) as {
        results: { chat: string; ok: boolean; error?: string }[];
      };
      expect(results.map((r) => [r.chat, r.ok])).toEqual([
        ["-1001", true],
        ["-1002", false],
        ["-1003", true],
      ]);
      expect(results[1]?.error).toContain("chat not found");
      expect(api.messagesFor("-1001")).toHaveLength(1);
      expect(api.messagesFor("-1001")[0]?.text).toContain("wa-warden test alert");
      expect(api.messagesFor("-1003")).toHaveLength(1);
    } finally {
      await api.stop();
    }
  });
});
