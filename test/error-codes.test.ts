/**
 * One code per failure (src/errors.ts): every code is documented where it is declared, has an exit
 * status in the CLI's table and a one-line answer in the bot's (src/bot/error-replies.ts), and the
 * catch-all ACTION_FAILED is thrown nowhere in src. Each failure names the code or the file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { BOT_ERROR_REPLIES, errorReply } from "../src/bot/error-replies.js";
import type { WardenConfig } from "../src/config/load.js";
import { ErrorCodes, EXIT_STATUS_BY_CODE, ExitCodes, exitCodeFor, WardenError } from "../src/errors.js";
import type { Store } from "../src/store/store.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const NAMES = Object.keys(ErrorCodes).sort();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [path.join(dir, e.name)]
        : [],
  );
}

describe("error codes", () => {
  it("every code is WARDEN_ERR_<its name> and documented by a comment just above it", () => {
    const lines = readFileSync(path.join(ROOT, "src/errors.ts"), "utf8").split("\n");
    const undocumented: string[] = [];
    for (const name of NAMES) {
      expect(ErrorCodes[name as keyof typeof ErrorCodes]).toBe(`WARDEN_ERR_${name}`);
      const at = lines.findIndex((l) => l.trim().startsWith(`${name}: "WARDEN_ERR_`));
      expect(at, `${name} is declared in src/errors.ts`).toBeGreaterThan(0);
      if (!lines[at - 1]?.trim().endsWith("*/")) undocumented.push(name);
    }
    expect(undocumented).toEqual([]);
  });

  it("every code has an exit status and a bot reply, and the tables name no other code", () => {
    expect(Object.keys(EXIT_STATUS_BY_CODE).sort()).toEqual(NAMES);
    expect(Object.keys(BOT_ERROR_REPLIES).sort()).toEqual(NAMES);
    for (const [name, code] of Object.entries(ErrorCodes)) {
      const err = new WardenError(code, `the ${name} message\nsecond line`, { company: "acme" });
      expect([ExitCodes.FAILURE, ExitCodes.USAGE, ExitCodes.CONFIG]).toContain(exitCodeFor(err));
      const reply = errorReply(err);
      expect(reply.length, name).toBeGreaterThan(0);
      expect(reply, `${name}: one line`).not.toContain("\n");
    }
    expect(exitCodeFor(new WardenError(ErrorCodes.CONFIG_INVALID, "x"))).toBe(78);
    expect(exitCodeFor(new WardenError(ErrorCodes.USAGE, "x"))).toBe(2);
    expect(exitCodeFor(new WardenError(ErrorCodes.LEASE_HELD, "x"))).toBe(1);
    expect(exitCodeFor(new Error("plain"))).toBe(1);
  });

  it("the bot answers a silence's bad duration without the CLI's flag, and an unknown company without its path", () => {
    const usage = new WardenError(ErrorCodes.USAGE, "--for takes a duration", {
      option: "for",
      bare: "takes a duration",
    });
    expect(errorReply(usage)).toBe("takes a duration");
    const unknown = new WardenError(ErrorCodes.COMPANY_UNKNOWN, 'Unknown company "x": no folder /srv/x', {
      company: "x",
      missing: true,
    });
    expect(errorReply(unknown)).toBe('Unknown company "x"');
  });

  it("an action context without WARDEN_HOME refuses backups with HOME_UNSET, and the bot says why in one line", () => {
    const actions = createActionContext({
      store: {} as Store,
      clock: { now: () => 0 },
      config: {} as WardenConfig,
      home: undefined,
    });
    const err = (() => {
      try {
        return actions.backupsRoot;
      } catch (e) {
        return e;
      }
    })();
    expect((err as WardenError).code).toBe(ErrorCodes.HOME_UNSET);
    expect(errorReply(err)).toBe("backups are not available: WARDEN_HOME is not set");
    expect(() => actions.authStore).toThrow(/WARDEN_HOME is not set/);
  });

  it("ACTION_FAILED, the catch-all, is thrown nowhere in src", () => {
    const throwers = sourceFiles(path.join(ROOT, "src"))
      .filter((f) => !f.endsWith(path.join("src", "errors.ts")) && !f.endsWith("error-replies.ts"))
      .filter((f) => readFileSync(f, "utf8").includes("ACTION_FAILED"))
      .map((f) => path.relative(ROOT, f));
    expect(throwers).toEqual([]);
  });
});
