import pino from "pino";
import { describe, expect, it } from "vitest";
import { createNotifiers, NOTIFIER_NAMES } from "../src/alerts/notifiers/registry.js";
import { ErrorCodes, WardenError } from "../src/errors.js";

const logger = pino({ level: "silent" });
const noTelegram = { telegramToken: undefined, telegramApiRoot: undefined };
const withTelegram = { telegramToken: "123456:test-token-abcdef", telegramApiRoot: "http://127.0.0.1:1" };

describe("notifier registry", () => {
  it("builds log alone without a bot token, log and telegram with one", () => {
    expect([...createNotifiers(noTelegram, logger).keys()]).toEqual(["log"]);
    const both = createNotifiers(withTelegram, logger);
    expect([...both.keys()]).toEqual(["log", "telegram"]);
    expect(both.get("telegram")?.name).toBe("telegram");
  });

  it("rejects an unknown notifier name at start-up, naming it and the known ones", () => {
    const build = () => createNotifiers(withTelegram, logger, ["log", "slack"]);
    expect(build).toThrow(WardenError);
    try {
      build();
    } catch (err) {
      expect((err as WardenError).code).toBe(ErrorCodes.NOTIFIER_UNKNOWN);
      expect((err as WardenError).message).toContain('"slack"');
      for (const name of NOTIFIER_NAMES) expect((err as WardenError).message).toContain(name);
      expect((err as WardenError).context).toEqual({ notifier: "slack" });
    }
  });

  it("rejects telegram without a bot token instead of building a notifier that cannot send", () => {
    expect(() => createNotifiers(noTelegram, logger, ["telegram"])).toThrow(
      expect.objectContaining({ code: ErrorCodes.NOTIFIER_UNCONFIGURED }),
    );
  });
});
