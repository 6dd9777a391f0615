/**
 * Messages naming the fault, via the CLI: `cleanup … | head -1` exits quietly (no EPIPE stack), the
 * id limit is in the message, ENOSPC during a backup names the step and the file, an override for a
 * company without a folder is warned about, and `verify acme <a backup of another company>` fails.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { entryArgs } from "./helpers/entry.js";
import { mountTmpfs } from "./helpers/prerequisite.js";
import { runCli } from "./helpers/run-cli.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

const CREDS = JSON.stringify({ noiseKey: {}, signedIdentityKey: {}, signedPreKey: {}, registrationId: 1 });

function setup(companies: Record<string, number> = { acme: 5 }) {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-cli-msg-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const sessionsDir = path.join(root, "sessions");
  const home = path.join(root, "home");
  mkdirSync(home, { recursive: true });
  mkdirSync(path.join(root, "config", "companies"), { recursive: true });
  const old = (Date.now() - 60 * 86_400_000) / 1000;
  for (const [id, sessions] of Object.entries(companies)) {
    const dir = path.join(sessionsDir, id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "creds.json"), CREDS);
    for (let i = 0; i < sessions; i++) {
      const file = path.join(dir, `session-${1000 + i}.0.json`);
      writeFileSync(file, "{}");
      utimesSync(file, old, old);
    }
  }
  const configFile = path.join(root, "config", "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir, preKeyReserve: 0, fleet: { probe: null } }));
  return { root, home, sessionsDir, configFile, env: { WARDEN_CONFIG: configFile, WARDEN_HOME: home } };
}

describe("CLI messages", () => {
  it("cleanup --dry-run | head -1 exits quietly, without an EPIPE stack trace", () => {
    const t = setup({ acme: 40 });
    // `true` stands for a `head -1` that already exited: the reader is gone before the first write,
    // so every run hits EPIPE (a real head -1 only sometimes does).
    const run = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" ${entryArgs("src/cli/main.ts").join(" ")} cleanup acme --dry-run | true; echo "exit=\${PIPESTATUS[0]}" >&2`,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, ...t.env, LOG_LEVEL: "silent" },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(run.stderr.trim()).toBe("exit=0");
  }, 90_000);

  it("a company id over 128 characters is refused with the limit in the message", async () => {
    const t = setup();
    const run = await runCli(["status", "a".repeat(129)], t.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("use 1-128 letters");
  });

  it("config check warns about an override for a company that has no folder", async () => {
    const t = setup();
    writeFileSync(
      path.join(t.root, "config", "companies", "acmee.json"),
      JSON.stringify({ backups: { keep: 2 } }),
    );
    const run = await runCli(["config", "check"], t.env);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `warning: ${path.join(t.root, "config", "companies", "acmee.json")}: no company folder ${path.join(t.sessionsDir, "acmee")}`,
    );
  });

  it("verify acme fails on a backup of another company copied into acme's backups", async () => {
    const t = setup({ acme: 3, bistro: 3 });
    expect((await runCli(["backup", "bistro"], t.env)).code).toBe(0);
    const [name] = readdirSync(path.join(t.home, "backups", "bistro"));
    mkdirSync(path.join(t.home, "backups", "acme"), { recursive: true });
    copyFileSync(
      path.join(t.home, "backups", "bistro", name as string),
      path.join(t.home, "backups", "acme", name as string),
    );
    const run = await runCli(["verify", "acme", name as string], t.env);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('a backup of "bistro", not of "acme"');
  }, 60_000);

  it("ENOSPC during a backup names the step and the file", async (ctx) => {
    const t = setup({ acme: 50 });
    const backups = path.join(t.home, "backups");
    mkdirSync(backups);
    mountTmpfs(ctx, backups, "64k", (fn) => cleanups.push(fn));
    // Random bytes do not compress: the archive cannot fit in 64 KiB.
    const { randomBytes } = await import("node:crypto");
    writeFileSync(path.join(t.sessionsDir, "acme", "big-notes.bin"), randomBytes(256 * 1024));
    const run = await runCli(["backup", "acme"], t.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `Backup failed while writing the archive ${backups}/acme/\\.warden-tmp-\\S+ \\(for ${backups}/acme/\\S+\\.tar\\.gz\\): no space left on the device \\(ENOSPC\\)`,
      ),
    );
    expect(readdirSync(path.join(backups, "acme"))).toEqual([]);
  }, 60_000);
});
