import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_CLEANUP_RULES } from "../src/actions/cleanup/plan-cleanup.js";
import { parseDuration } from "../src/config/duration.js";
import { renderSchemas } from "../src/config/json-schema.js";
import { companySettings, loadConfig, resolveConfigPath } from "../src/config/load.js";
import { ConfigError, ErrorCodes, ExitCodes, exitCodeFor } from "../src/errors.js";
import { emptyCounts } from "../src/fleet/classify-file.js";
import { resolveKeepPreKeys } from "../src/fleet/prekey-reserve.js";
import { databaseFile } from "../src/home-layout.js";
import { openStore } from "../src/store/store.js";
import { addFiles, createCompanyFolder } from "./helpers/baileys-folder.js";
import { runCli } from "./helpers/run-cli.js";
import { type OnFinished, tempDir } from "./helpers/temp-dir.js";

const DAY = 86_400_000;

const repoRoot = path.resolve(import.meta.dirname, "..");
/** A config folder with warden.json (text or object) and companies/<name> files; returns warden.json's path. */
function configDir(
  warden: unknown,
  companies: Record<string, unknown> = {},
  onFinished: OnFinished = onTestFinished,
): string {
  const dir = tempDir(onFinished);
  const file = path.join(dir, "warden.json");
  writeFileSync(file, typeof warden === "string" ? warden : JSON.stringify(warden, null, 2));
  if (Object.keys(companies).length > 0) {
    mkdirSync(path.join(dir, "companies"));
    for (const [name, content] of Object.entries(companies)) {
      writeFileSync(
        path.join(dir, "companies", name),
        typeof content === "string" ? content : JSON.stringify(content),
      );
    }
  }
  return file;
}

/** The ConfigError loadConfig throws for `file` (fails the test if it loads). */
function configError(file: string): ConfigError {
  try {
    loadConfig(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected ${file} to be rejected`);
}

describe("loadConfig", () => {
  it("applies every default to a minimal {} warden.json", () => {
    const file = configDir({});
    const cwd = tempDir();
    const config = loadConfig(file, cwd);
    expect(config.file).toBe(file);
    expect(config.companiesDir).toBe(path.join(path.dirname(file), "companies"));
    // Relative to the working directory, as the schema documents.
    expect(config.sessionsDir).toBe(path.join(cwd, "sessions"));
    expect(config.scan).toEqual({ reconcileEvery: 60_000, debounce: 500 });
    expect(config.history).toEqual({ keep: 30 * 86_400_000 });
    expect(config.defaults).toEqual({
      thresholds: { monitor: 120, warning: 150, critical: 180, fatal: 200 },
      count: { basis: "stale" },
      preKeyReserve: "auto",
      alerts: { remindEvery: 3_600_000, hysteresis: 10, escalateAfter: null },
      telegram: { chatIds: [], operators: [] },
      driver: "baileys",
      simulation: {
        connect: true,
        connectAfter: 200,
        initialPreKeys: 30,
        growPerMinute: 0,
        disconnectAfter: null,
        disconnectCode: 428,
        recover: true,
        pairAfter: null,
        decryptFailuresPerMinute: 0,
        decryptReason: "Bad MAC",
        inboundEvery: null,
        deafAfter: null,
        restrictAfter: null,
        restrictFor: 3_600_000,
      },
      pairing: { phoneNumber: null, qrTtl: 600_000 },
      cleanup: {
        keepPreKeys: "auto",
        sessionMaxAge: 14 * DAY,
        senderKeyMaxAge: 3 * DAY,
        foreignSenderKeyMaxAge: 30 * DAY,
        minAge: 7 * DAY,
      },
      ladder: {
        enabled: true,
        warnAfter: 600_000,
        reconnectAfter: 900_000,
        reconnectAttempts: 3,
        reconnectBackoff: 120_000,
        settleFor: 300_000,
        budget: { max: 6, window: 6 * 3_600_000 },
        emergencyCooldown: 3_600_000,
        minCleanupFiles: 20,
        autoReset: false,
        maxBackoff: 30 * 60_000,
        stableAfter: 120_000,
        flapAlertAt: 4,
      },
      maintenance: { window: "03:00-05:00", timezone: "UTC" },
      backups: { keep: 5, credsSnapshots: 10, maxAge: 2 * DAY, every: DAY },
      signals: {
        alertAt: { count: 20, window: 600_000 },
        repairSessions: false,
        repairAfter: { count: 10, window: 600_000 },
      },
      liveness: { silentAfter: 1_800_000, gapFactor: 3, settleFor: 600_000, queryTimeout: 10_000 },
      mutedUntil: null,
    });
    expect(config.fleet).toEqual({
      outageShare: 0.5,
      outageMinCompanies: 3,
      outageWindow: 120_000,
      checkEvery: 15_000,
      correlate: { share: 0.3, min: 3, window: 300_000 },
      probe: { host: "web.whatsapp.com", port: 443, every: 30_000, timeout: 5_000 },
    });
    expect(config.workers).toEqual({
      instances: 1,
      heartbeatEvery: 5_000,
      leaseTtl: 30_000,
      deadAfter: 45_000,
      controlPollEvery: 500,
    });
    expect(config.companies.size).toBe(0);
    expect(companySettings(config, "anyone")).toBe(config.defaults);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.defaults.thresholds)).toBe(true);
  });

  it("an override naming one simulation key keeps warden.json's other simulation keys", () => {
    const file = configDir(
      { simulation: { initialPreKeys: 0, connectAfter: "20ms" } },
      { "acme.json": { simulation: { connect: false } } },
    );
    const sim = companySettings(loadConfig(file), "acme").simulation;
    expect(sim).toMatchObject({ connect: false, initialPreKeys: 0, connectAfter: 20 });
  });

  it("the cleanup defaults are the planner's DEFAULT_CLEANUP_RULES", () => {
    const { cleanup } = loadConfig(configDir({})).defaults;
    expect({
      keepPreKeys: resolveKeepPreKeys(cleanup.keepPreKeys),
      sessionMaxAgeMs: cleanup.sessionMaxAge,
      senderKeyMaxAgeMs: cleanup.senderKeyMaxAge,
      foreignSenderKeyMaxAgeMs: cleanup.foreignSenderKeyMaxAge,
      minAgeMs: cleanup.minAge,
    }).toEqual(DEFAULT_CLEANUP_RULES);
  });

  it("resolves a relative config path and WARDEN_CONFIG against the working directory", () => {
    expect(resolveConfigPath({}, "/srv/warden")).toBe("/srv/warden/config/warden.json");
    expect(resolveConfigPath({ WARDEN_CONFIG: "etc/w.json" }, "/srv/warden")).toBe("/srv/warden/etc/w.json");
    const file = configDir({ sessionsDir: "/var/sessions" });
    const config = loadConfig(path.basename(file), path.dirname(file));
    expect(config.file).toBe(file);
    expect(config.sessionsDir).toBe("/var/sessions");
  });

  it("merges a company override over the defaults (chat ids added, not replaced)", () => {
    const file = configDir(
      {
        thresholds: { monitor: 100, warning: 150, critical: 180, fatal: 200 },
        alerts: { remindEvery: "2h", hysteresis: 5 },
        telegram: { chatIds: [-1001111111111, "@fleet_alerts"] },
      },
      {
        "acme.json": {
          $schema: "../company.schema.json",
          thresholds: { warning: 140, fatal: 250 },
          alerts: { remindEvery: "10m" },
          telegram: { chatIds: [-1002222222222, -1001111111111] },
          mutedUntil: "2030-01-02T03:04:05Z",
          preKeyReserve: 0,
          driver: "simulated",
          simulation: { growPerMinute: 6, disconnectAfter: "20m" },
          ladder: { budget: { max: 2 } },
          maintenance: { window: "22:30-01:00", timezone: "America/Sao_Paulo" },
          cleanup: { minAge: "1d" },
        },
        "beta.json": { mutedUntil: null },
        "notes.txt": "ignored: not .json",
        "gamma.json.sample": "{ not even json",
      },
    );
    const config = loadConfig(file);
    expect([...config.companies.keys()]).toEqual(["acme", "beta"]);
    expect(companySettings(config, "acme")).toEqual({
      thresholds: { monitor: 100, warning: 140, critical: 180, fatal: 250 },
      count: { basis: "stale" },
      preKeyReserve: 0,
      alerts: { remindEvery: 600_000, hysteresis: 5, escalateAfter: null },
      telegram: { chatIds: [-1001111111111, "@fleet_alerts", -1002222222222], operators: [] },
      driver: "simulated",
      simulation: { ...config.defaults.simulation, growPerMinute: 6, disconnectAfter: 1_200_000 },
      pairing: { phoneNumber: null, qrTtl: 600_000 },
      cleanup: { ...config.defaults.cleanup, minAge: DAY },
      ladder: { ...config.defaults.ladder, budget: { max: 2, window: 6 * 3_600_000 } },
      maintenance: { window: "22:30-01:00", timezone: "America/Sao_Paulo" },
      backups: config.defaults.backups,
      signals: config.defaults.signals,
      liveness: config.defaults.liveness,
      mutedUntil: Date.parse("2030-01-02T03:04:05Z"),
    });
    expect(companySettings(config, "beta")).toEqual(config.defaults);
    // The defaults themselves are untouched by the merge.
    expect(config.defaults.telegram.chatIds).toEqual([-1001111111111, "@fleet_alerts"]);
    expect(config.defaults.thresholds.warning).toBe(150);
    expect(companySettings(config, "nobody")).toBe(config.defaults);
  });

  it("parses durations", () => {
    const config = loadConfig(
      configDir({
        scan: { reconcileEvery: "30s", debounce: "250ms" },
        history: { keep: "7d" },
        alerts: { remindEvery: "10m" },
      }),
    );
    expect(config.scan).toEqual({ reconcileEvery: 30_000, debounce: 250 });
    expect(config.history.keep).toBe(7 * 86_400_000);
    expect(config.defaults.alerts.remindEvery).toBe(600_000);
    expect(config.defaults.alerts.hysteresis).toBe(10);
  });

  it.each([
    ["10m", 600_000],
    ["500ms", 500],
    ["30s", 30_000],
    ["1.5h", 5_400_000],
    ["2w", 1_209_600_000],
    [" 7d ", 604_800_000],
  ] as const)("parseDuration(%j) = %d", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["10 minutes", "10", "m", "-5m", "10M", "1e3ms", ""])("parseDuration(%j) is undefined", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  describe("errors name the file and the key path", () => {
    it("unknown top-level key", () => {
      const file = configDir({ sessionsDir: "./s", bogus: 1 });
      const err = configError(file);
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.context.file).toBe(file);
      expect(err.message).toContain(file);
      expect(err.message).toContain("unknown key `bogus`");
      expect(err.issues).toEqual(["unknown key `bogus`"]);
      expect(exitCodeFor(err)).toBe(ExitCodes.CONFIG);
    });

    it("unknown nested key", () => {
      const file = configDir({ scan: { debounce: "1s", debounse: "2s" } });
      const err = configError(file);
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toContain(file);
      expect(err.message).toContain("scan.debounse");
    });

    it("unknown key in a company file names that file", () => {
      const file = configDir({}, { "acme.json": { thresholds: { warnin: 140 } } });
      const err = configError(file);
      const companyFile = path.join(path.dirname(file), "companies", "acme.json");
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.context.file).toBe(companyFile);
      expect(err.message).toContain(companyFile);
      expect(err.message).toContain("thresholds.warnin");
    });

    it("a key allowed in warden.json but not in a company file", () => {
      const file = configDir({}, { "acme.json": { sessionsDir: "./elsewhere" } });
      const err = configError(file);
      expect(err.message).toContain(path.join("companies", "acme.json"));
      expect(err.message).toContain("sessionsDir");
    });

    it("telegram.admins is global only, telegram.operators per company only; grouping is global", () => {
      const file = configDir(
        { telegram: { chatIds: [-1001], admins: [42] }, alerts: { groupAbove: 8, groupWait: "20s" } },
        { "acme.json": { telegram: { operators: [77] } } },
      );
      const config = loadConfig(file);
      expect(config.telegram.admins).toEqual([42]);
      expect(config.alerts).toEqual({ groupAbove: 8, groupWait: 20_000, digestAt: null });
      expect(companySettings(config, "acme").telegram).toEqual({ chatIds: [-1001], operators: [77] });
      expect(config.defaults.telegram.operators).toEqual([]);
      expect(configError(configDir({ telegram: { operators: [1] } })).message).toContain(
        "telegram.operators",
      );
      const inCompany = configError(configDir({}, { "acme.json": { telegram: { admins: [1] } } }));
      expect(inCompany.message).toContain("telegram.admins");
      expect(configError(configDir({ telegram: { admins: [-5] } })).message).toContain("Telegram user id");
      expect(configError(configDir({}, { "acme.json": { alerts: { groupAbove: 3 } } })).message).toContain(
        "alerts.groupAbove",
      );
    });

    it("wrong type", () => {
      const err = configError(configDir({ alerts: { hysteresis: "10" } }));
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toContain("alerts.hysteresis");
      expect(err.message).toContain('"10"');

      const thresholds = configError(
        configDir({ thresholds: { monitor: "120", warning: 150, critical: 180, fatal: 200 } }),
      );
      expect(thresholds.issues).toHaveLength(1);
      expect(thresholds.issues[0]).toContain("thresholds.monitor");

      const reserve = configError(configDir({ preKeyReserve: "all" }));
      expect(reserve.message).toContain("preKeyReserve");
      expect(reserve.message).toContain('"auto"');
    });

    it('bad duration "10 minutes"', () => {
      const file = configDir({ alerts: { remindEvery: "10 minutes" } });
      const err = configError(file);
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toContain(file);
      expect(err.message).toContain("alerts.remindEvery");
      expect(err.message).toContain("10 minutes");
    });

    it("thresholds out of order", () => {
      const file = configDir({ thresholds: { monitor: 120, warning: 120, critical: 180, fatal: 200 } });
      const err = configError(file);
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toContain(file);
      expect(err.message).toContain("thresholds.warning");
      expect(err.message).toContain("thresholds.monitor");
      expect(err.issues).toHaveLength(1);
    });

    it("thresholds put out of order by a company override name the company file", () => {
      const file = configDir({}, { "acme.json": { thresholds: { critical: 150 } } });
      const err = configError(file);
      expect(err.context.file).toBe(path.join(path.dirname(file), "companies", "acme.json"));
      expect(err.message).toContain("thresholds.critical");
      expect(err.message).toContain("thresholds.warning");
    });

    it("invalid JSON gives the line and column", () => {
      const file = configDir('{\n  "sessionsDir": "./s",\n}\n');
      const err = configError(file);
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toContain(file);
      expect(err.message).toContain("invalid JSON");
      expect(err.message).toContain("line 3 column 1");
      const truncated = configError(configDir('{\n  "sessionsDir": "./s"'));
      expect(truncated.message).toContain("line 2 column 23");
    });

    it.each([
      ['{\n  "sessionsDir": \n}\n', "missing value"],
      ['{\n  "sessionsDir": ./s\n}\n', "unquoted string"],
      ["", "empty file"],
    ])("invalid JSON (%j, %s) gives the line and column", (text) => {
      const err = configError(configDir(text));
      expect(err.message).toContain("invalid JSON");
      expect(err.message).toMatch(/line \d+ column \d+/);
    });

    it("missing file", () => {
      const file = path.join(tempDir(), "nope", "warden.json");
      const err = configError(file);
      expect(err.code).toBe(ErrorCodes.CONFIG_UNREADABLE);
      expect(err.message).toContain(file);
      expect(err.message).toContain("file not found");
      expect(exitCodeFor(err)).toBe(ExitCodes.CONFIG);
    });

    it("a company file whose name is not a valid company id", () => {
      // "../x.json" cannot be a file name inside companies/; names that can exist but are not ids:
      for (const name of ["bad name.json", ".hidden.json", "-dash.json", "a..b.json"]) {
        const file = configDir({}, { [name]: {} });
        const err = configError(file);
        expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
        expect(err.context.file).toBe(path.join(path.dirname(file), "companies", name));
        expect(err.message).toContain(JSON.stringify(name.slice(0, -".json".length)));
      }
    });

    it("a bad Telegram chat id names telegram.chatIds", () => {
      const err = configError(configDir({ telegram: { chatIds: [-100123, "bob"] } }));
      expect(err.message).toContain("telegram.chatIds");
    });

    it.each([
      [{ maintenance: { window: "3am-5am" } }, "maintenance.window", "03:00-05:00"],
      [{ maintenance: { timezone: "Mars/Olympus" } }, "maintenance.timezone", "IANA time zone"],
      [{ ladder: { budget: { max: 0 } } }, "ladder.budget.max", ">= 1"],
      [{ ladder: { warnAfter: "soon" } }, "ladder.warnAfter", "duration"],
      [{ cleanup: { minAge: 7 } }, "cleanup.minAge", "duration"],
      [{ cleanup: { keepAll: true } }, "keepAll", "cleanup"],
      [{ fleet: { outageShare: 1.5 } }, "fleet.outageShare", "1"],
    ])("%j names %s", (json, key, hint) => {
      const err = configError(configDir(json));
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toContain(key);
      expect(err.message).toContain(hint);
    });

    it("a company override with a bad ladder key names its own file", () => {
      const file = configDir({}, { "acme.json": { ladder: { reconnectAttempts: "many" } } });
      const err = configError(file);
      expect(err.context.file).toBe(path.join(path.dirname(file), "companies", "acme.json"));
      expect(err.message).toContain("ladder.reconnectAttempts");
    });

    it("an empty sessionsDir is not described as a number", () => {
      const err = configError(configDir({ sessionsDir: "" }));
      expect(err.message).toContain("sessionsDir");
      expect(err.message).not.toContain("a number");
    });
  });

  it("the committed JSON schemas are the ones generated from the zod schemas", () => {
    const rendered = renderSchemas();
    expect(Object.keys(rendered).sort()).toEqual(["company.schema.json", "warden.schema.json"]);
    for (const [name, text] of Object.entries(rendered)) {
      expect({ name, text: readFileSync(path.join(repoRoot, "config", name), "utf8") }).toEqual({
        name,
        text,
      });
    }
    const warden = JSON.parse(rendered["warden.schema.json"] ?? "{}");
    expect(warden.additionalProperties).toBe(false);
    expect(Object.keys(warden.properties)).toEqual(
      expect.arrayContaining(["sessionsDir", "scan", "thresholds", "preKeyReserve", "telegram"]),
    );
  });

  it("the committed config/warden.json loads", () => {
    const config = loadConfig(path.join(repoRoot, "config", "warden.json"), repoRoot);
    expect(config.sessionsDir).toBe(path.join(repoRoot, "sessions"));
    expect(config.defaults.thresholds).toEqual({ monitor: 120, warning: 150, critical: 180, fatal: 200 });
    expect(config.scan).toEqual({ reconcileEvery: 60_000, debounce: 500 });
  });
});

/** WARDEN_CONFIG and WARDEN_HOME for a fresh config folder holding `warden`. */
function cliEnv(warden: unknown, companies: Record<string, unknown>, onFinished: OnFinished) {
  const WARDEN_CONFIG = configDir(warden, companies, onFinished);
  const WARDEN_HOME = path.join(path.dirname(WARDEN_CONFIG), "home");
  return { WARDEN_CONFIG, WARDEN_HOME };
}

describe.concurrent("warden CLI (child processes)", () => {
  it("config check: 0 and the effective config as JSON", async ({ expect, onTestFinished }) => {
    const env = cliEnv({ sessionsDir: "/srv/sessions", alerts: { remindEvery: "90m" } }, {}, onTestFinished);
    const { code, stdout, stderr } = await runCli(["config", "check"], env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: `Config OK: ${env.WARDEN_CONFIG}\n` });
    const printed = JSON.parse(stdout);
    expect(printed.file).toBe(env.WARDEN_CONFIG);
    expect(printed.sessionsDir).toBe("/srv/sessions");
    expect(printed.defaults.thresholds).toEqual({ monitor: 120, warning: 150, critical: 180, fatal: 200 });
    expect(printed.defaults.alerts.remindEvery).toBe("90m");
    expect(printed.telegram).toEqual({ admins: [], escalateTo: [] });
    expect(printed.alerts).toEqual({ groupAbove: 5, groupWait: "10s", digestAt: null });
    expect(printed.companies).toEqual({});
  });

  it("config check on the shipped config/ prints no warning (a new operator starts safe)", async ({
    expect,
    onTestFinished,
  }) => {
    const shipped = path.resolve("config", "warden.json");
    const WARDEN_HOME = tempDir(onTestFinished);
    const { code, stderr } = await runCli(["config", "check"], { WARDEN_CONFIG: shipped, WARDEN_HOME });
    expect({ code, stderr }).toEqual({ code: 0, stderr: `Config OK: ${shipped}\n` });
    const raw = JSON.parse(readFileSync(shipped, "utf8"));
    expect(raw.cleanup.keepPreKeys).toBe("auto");
    expect(raw.ladder.autoReset).toBe(false);
  });

  it("config check <company>: the merged settings of one company", async ({ expect, onTestFinished }) => {
    const env = cliEnv(
      {},
      { "acme.json": { thresholds: { warning: 140 }, telegram: { chatIds: [-42] } } },
      onTestFinished,
    );
    const { code, stdout } = await runCli(["config", "check", "acme"], env);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout);
    expect(printed.company).toBe("acme");
    expect(printed.override).toBe(path.join(path.dirname(env.WARDEN_CONFIG), "companies", "acme.json"));
    expect(printed.settings.thresholds.warning).toBe(140);
    expect(printed.settings.telegram.chatIds).toEqual([-42]);
  });

  it("a bad config: 78, and stderr names the file and the key", async ({ expect, onTestFinished }) => {
    const env = cliEnv(
      { thresholds: { monitor: 120, warning: 150, critical: 180, fatal: 200, extreme: 1 } },
      {},
      onTestFinished,
    );
    const { code, stdout, stderr } = await runCli(["config", "check"], env);
    expect(code).toBe(ExitCodes.CONFIG);
    expect(stdout).toBe("");
    expect(stderr).toContain(env.WARDEN_CONFIG);
    expect(stderr).toContain("thresholds.extreme");
    // status refuses a bad config the same way.
    const status = await runCli(["status"], env);
    expect(status.code).toBe(ExitCodes.CONFIG);
    expect(status.stderr).toContain("thresholds.extreme");
  });

  it("a missing config file: 78", async ({ expect, onTestFinished }) => {
    const dir = tempDir(onTestFinished);
    const missing = path.join(dir, "absent.json");
    const { code, stderr } = await runCli(["config", "check"], {
      WARDEN_CONFIG: missing,
      WARDEN_HOME: path.join(dir, "home"),
    });
    expect(code).toBe(ExitCodes.CONFIG);
    expect(stderr).toContain(missing);
    expect(stderr).toContain("file not found");
  });

  it("usage errors: 2", async ({ expect, onTestFinished }) => {
    const env = cliEnv({ sessionsDir: tempDir(onTestFinished) }, {}, onTestFinished);
    const unknown = await runCli(["frobnicate"], env);
    expect(unknown.code).toBe(ExitCodes.USAGE);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
    // One line, with the way to the list of commands.
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toContain("warden --help");
    const none = await runCli([], env);
    expect(none.code).toBe(ExitCodes.USAGE);
    const badFlag = await runCli(["status", "--frob"], env);
    expect(badFlag.code).toBe(ExitCodes.USAGE);
    const badId = await runCli(["status", "../etc"], env);
    expect(badId.code).toBe(ExitCodes.USAGE);
    expect(badId.stderr).toContain('Invalid company id "../etc"');
  });

  it("status of an unknown company: 1", async ({ expect, onTestFinished }) => {
    const env = cliEnv({ sessionsDir: tempDir(onTestFinished) }, {}, onTestFinished);
    const { code, stderr } = await runCli(["status", "nosuch"], env);
    expect(code).toBe(ExitCodes.FAILURE);
    expect(stderr).toContain('Unknown company "nosuch"');
  });

  it("status --json: counts, levels and connections of every company", async ({ expect, onTestFinished }) => {
    const root = tempDir(onTestFinished);
    const sessionsDir = path.join(root, "sessions");
    await createCompanyFolder(path.join(sessionsDir, "acme"), { preKeys: 40, sessions: 3, senderKeys: 2 });
    await createCompanyFolder(path.join(sessionsDir, "beta"), { preKeys: 10 });
    addFiles(path.join(sessionsDir, "beta"), ["app-state-sync-key-AAAA.json"]);
    mkdirSync(path.join(sessionsDir, "bad name"));
    addFiles(sessionsDir, ["README.txt"]);
    const env = cliEnv(
      {
        sessionsDir,
        preKeyReserve: 0,
        count: { basis: "counted" },
        thresholds: { monitor: 20, warning: 40, critical: 60, fatal: 80 },
      },
      { "beta.json": { preKeyReserve: 5 } },
      onTestFinished,
    );
    mkdirSync(env.WARDEN_HOME);
    const store = openStore(databaseFile(env.WARDEN_HOME));
    try {
      store.db
        .prepare(
          "INSERT INTO connection_state (company, state, since, reason, code, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .run("acme", "close", 1_700_000_000_000, "loggedOut", 401, 1_700_000_000_000);
    } finally {
      store.close();
    }

    const { code, stdout, stderr } = await runCli(["status", "--json"], env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const { companies } = JSON.parse(stdout);
    expect(companies).toEqual([
      {
        id: "acme",
        files: {
          total: 46,
          counted: 46,
          basis: "counted",
          stale: 0,
          live: 46,
          reserve: 0,
          byCategory: { ...emptyCounts(), creds: 1, "pre-key": 40, session: 3, "sender-key": 2 },
        },
        store: "files",
        level: "warning",
        creds: "ok",
        signals: { decryptFailures10m: 0, byReason: {}, sessionChurn10m: 0, retryReceipts10m: 0 },
        liveness: {
          state: "not_open",
          lastInboundAt: null,
          usualGapMs: null,
          silentForMs: null,
          restrictedUntil: null,
          reason: null,
        },
        connection: { state: "close", since: 1_700_000_000_000, reason: "loggedOut", downSince: null },
        attention: {
          severity: "warning",
          summary: expect.stringMatching(/^disconnected \(close\) for \d+d$/),
          problems: [
            expect.objectContaining({ source: "connection", severity: "warning" }),
            { source: "files", severity: "warning", text: "files warning (46)" },
          ],
        },
      },
      {
        id: "beta",
        files: {
          total: 12,
          counted: 7,
          basis: "counted",
          stale: 0,
          live: 12,
          reserve: 5,
          byCategory: { ...emptyCounts(), creds: 1, "pre-key": 10, "app-state-sync-key": 1 },
        },
        store: "files",
        level: "ok",
        creds: "ok",
        signals: { decryptFailures10m: 0, byReason: {}, sessionChurn10m: 0, retryReceipts10m: 0 },
        liveness: {
          state: "not_open",
          lastInboundAt: null,
          usualGapMs: null,
          silentForMs: null,
          restrictedUntil: null,
          reason: null,
        },
        connection: { state: "unknown", since: null, reason: null, downSince: null },
        attention: { severity: "ok", problems: [], summary: "ok" },
      },
    ]);

    const one = await runCli(["status", "acme", "--json"], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).companies.map((c: { id: string }) => c.id)).toEqual(["acme"]);
  });
});
