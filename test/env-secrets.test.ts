/**
 * Secrets from files (TELEGRAM_BOT_TOKEN_FILE, WARDEN_HTTP_TOKEN_FILE, WARDEN_BACKUP_KEY_FILE,
 * WARDEN_PG_URL_FILE):
 * read when the file is this user's with mode 0600 or 0400, refused with a clear fix otherwise;
 * backups without a key are reported; sessionsDir is created 0700.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkBackupKey } from "../src/cli/doctor-checks.js";
import { readEnv } from "../src/env.js";
import { ErrorCodes, ExitCodes, exitCodeFor, type WardenError } from "../src/errors.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { runCli } from "./helpers/run-cli.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-secrets-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string, mode: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

function refusal(env: NodeJS.ProcessEnv): WardenError {
  try {
    readEnv(env, dir);
  } catch (err) {
    return err as WardenError;
  }
  throw new Error("readEnv accepted it");
}

describe("secrets from files", () => {
  it("reads each *_FILE of mode 0600 or 0400, dropping one trailing newline", () => {
    const env = readEnv(
      {
        TELEGRAM_BOT_TOKEN_FILE: secretFile("bot", "123456:ABC-file\n", 0o600),
        WARDEN_HTTP_TOKEN_FILE: secretFile("http", "http-token\n", 0o400),
        WARDEN_BACKUP_KEY_FILE: secretFile("key", "pass phrase \n", 0o600),
        WARDEN_PG_URL_FILE: secretFile("pg", "postgres://warden:pw@db:5432/warden\n", 0o400),
      },
      dir,
    );
    expect(env.pgUrl).toBe("postgres://warden:pw@db:5432/warden");
    expect(env.telegramToken).toBe("123456:ABC-file");
    expect(env.httpToken).toBe("http-token");
    expect(env.backupKey).toBe("pass phrase "); // a passphrase keeps its spaces
  });

  it("refuses a file others can read, naming the file and the fix (exit 78)", () => {
    const file = secretFile("bot", "123456:ABC", 0o644);
    const err = refusal({ TELEGRAM_BOT_TOKEN_FILE: file });
    expect(err.code).toBe(ErrorCodes.SECRET_FILE);
    expect(err.message).toContain(`TELEGRAM_BOT_TOKEN_FILE=${file}: mode 0644`);
    expect(err.message).toContain(`Fix: chmod 600 ${file}`);
    expect(err.message).not.toContain("123456:ABC");
    expect(exitCodeFor(err)).toBe(ExitCodes.CONFIG);
    expect(refusal({ WARDEN_BACKUP_KEY_FILE: secretFile("key", "k", 0o640) }).message).toContain("mode 0640");
    expect(refusal({ WARDEN_HTTP_TOKEN_FILE: path.join(dir, "missing") }).message).toContain("ENOENT");
    expect(refusal({ WARDEN_HTTP_TOKEN_FILE: dir }).message).toContain("not a regular file");
  });

  it("refuses a secret given both ways", () => {
    const err = refusal({ WARDEN_HTTP_TOKEN: "a", WARDEN_HTTP_TOKEN_FILE: secretFile("http", "b", 0o600) });
    expect(err.message).toContain("Both WARDEN_HTTP_TOKEN and WARDEN_HTTP_TOKEN_FILE are set");
  });

  it("the CLI stops at start with the refusal and exit 78", async () => {
    const file = secretFile("key", "k", 0o644);
    const run = await runCli(["status"], { WARDEN_HOME: dir, WARDEN_BACKUP_KEY_FILE: file });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain(`warden: WARDEN_BACKUP_KEY_FILE=${file}: mode 0644`);
  }, 30_000);
});

describe("what doctor and the start-up say about backups", () => {
  it("warns when backups are unencrypted", () => {
    const without = checkBackupKey(readEnv({}, dir));
    expect(without.status).toBe("warn");
    expect(without.detail).toContain("plaintext");
    expect(without.fix).toContain("WARDEN_BACKUP_KEY_FILE");
    expect(checkBackupKey(readEnv({ WARDEN_BACKUP_KEY: "k" }, dir)).status).toBe("ok");
  });

  it("creates sessionsDir 0700", async () => {
    const fx = new FleetFixture({});
    try {
      rmSync(fx.sessionsDir, { recursive: true });
      await fx.startSupervisor({ token: null, watch: false });
      expect(statSync(fx.sessionsDir).mode & 0o777).toBe(0o700);
    } finally {
      await fx.cleanup();
    }
  });
});
