/**
 * Logs an operator reads: at start the supervisor checks the Telegram token (getMe) and says "Telegram on:
 * @bot, N chats" or the exact problem; every delivered alert gets a line. The real entry file as a
 * child process, the loopback Bot API.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { prettyLogLine } from "../src/cli/pretty-log.js";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { entryArgs } from "./helpers/entry.js";
import { TEST_TOKEN } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

const repo = path.resolve(import.meta.dirname, "..");
const children: ChildProcess[] = [];
const roots: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function startSupervisor(apiRoot: string, files = 0) {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-logs-"));
  roots.push(root);
  const sessions = path.join(root, "sessions");
  mkdirSync(path.join(sessions, "acme"), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(path.join(sessions, "acme", `session-${i}.0.json`), "{}");
  mkdirSync(path.join(root, "config"));
  const file = path.join(root, "config", "warden.json");
  writeFileSync(
    file,
    JSON.stringify({
      sessionsDir: sessions,
      preKeyReserve: 0,
      // Fresh files are live: count them all so 151 files reach warning (the default counts stale ones).
      count: { basis: "counted" },
      telegram: { chatIds: [-1001] },
      fleet: { probe: null },
      // Not the default 127.0.0.1:9480, which another supervisor on this machine may hold.
      http: { listen: null },
    }),
  );
  const child = spawn(process.execPath, entryArgs("src/supervisor/main.ts"), {
    cwd: repo,
    env: {
      ...process.env,
      WARDEN_CONFIG: file,
      WARDEN_HOME: path.join(root, "data"),
      LOG_LEVEL: "info",
      TELEGRAM_BOT_TOKEN: TEST_TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const out: string[] = [];
  child.stdout?.on("data", (d: Buffer) => out.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => out.push(d.toString()));
  return { log: () => out.join("") };
}

describe("supervisor logs", () => {
  it("says Telegram is on, with the bot and the chat count, and logs each delivered alert", async () => {
    const api = new BotApiServer();
    await api.start();
    try {
      const proc = startSupervisor(api.apiRoot, 151);
      await waitFor(() => proc.log().includes("Telegram on: @warden_test_bot, 1 chats"), {
        what: "Telegram on",
        timeoutMs: 30_000,
        detail: () => `the supervisor's log:\n${proc.log().slice(-3_000)}`,
      });
      await waitFor(() => /Alert \d+ delivered to telegram -1001 \(acme, level\)/.test(proc.log()), {
        what: "delivered line",
        timeoutMs: 30_000,
        detail: () => `the supervisor's log:\n${proc.log().slice(-3_000)}`,
      });
      expect(proc.log()).not.toContain(TEST_TOKEN);
      // And `npm run logs` shows such a line readably.
      const line = proc
        .log()
        .split("\n")
        .find((l) => l.includes("Telegram on"));
      expect(prettyLogLine(line ?? "")).toMatch(
        /^\d\d:\d\d:\d\d INFO {2}.*Telegram on: @warden_test_bot, 1 chats/,
      );
    } finally {
      await api.stop();
    }
  }, 60_000);

  it("names the problem when the Bot API cannot be reached", async () => {
    const api = new BotApiServer();
    await api.start();
    const apiRoot = api.apiRoot;
    await api.stop();
    const proc = startSupervisor(apiRoot);
    await waitFor(
      () =>
        /Telegram check \(getMe\) failed: network failed on getMe: connect ECONNREFUSED 127\.0\.0\.1:\d+/.test(
          proc.log(),
        ),
      {
        what: "getMe failure",
        timeoutMs: 30_000,
        detail: () => `the supervisor's log:\n${proc.log().slice(-3_000)}`,
      },
    );
  }, 60_000);
});
