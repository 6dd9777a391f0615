/** A temporary wa-warden installation: config folder, sessions folder, data folder, and a supervisor. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createNotifiers } from "../../src/alerts/notifiers/registry.js";
import type { Clock } from "../../src/clock.js";
import { loadConfig } from "../../src/config/load.js";
import type { Logger } from "../../src/logger.js";
import { openStore, type Store } from "../../src/store/store.js";
import { Supervisor, type SupervisorOptions } from "../../src/supervisor/supervisor.js";

/**
 * Thresholds on every file, as `ls | wc -l` with no pre-key reserve: for tests that drive levels
 * with {@link FleetFixture.setFileCount}'s fresh files, which the default basis ("stale") does not
 * count until they age. Spread it into the fixture's config where a test needs it.
 */
export const COUNT_EVERY_FILE = { count: { basis: "counted" }, preKeyReserve: 0 } as const;

/** The fake token used in tests (must never appear in a log line). */
export const TEST_TOKEN = "123456:TEST-secret-token-abcdefghij";

/** A temp installation. */
export class FleetFixture {
  readonly root = mkdtempSync(path.join(os.tmpdir(), "warden-test-"));
  readonly sessionsDir = path.join(this.root, "sessions");
  readonly configFile = path.join(this.root, "config", "warden.json");
  readonly home = path.join(this.root, "data");
  readonly logLines: Record<string, unknown>[] = [];
  readonly rawLog: string[] = [];
  private readonly running: { supervisor: Supervisor; store: Store }[] = [];

  constructor(config: Record<string, unknown> = {}) {
    mkdirSync(this.sessionsDir, { recursive: true });
    mkdirSync(path.join(this.root, "config", "companies"), { recursive: true });
    this.writeConfig(config);
  }

  /** Writes warden.json: the product's defaults (src/config/defaults.ts) but sessionsDir and HTTP off unless `config.http` says otherwise. */
  writeConfig(config: Record<string, unknown>): void {
    writeFileSync(
      this.configFile,
      JSON.stringify(
        {
          sessionsDir: this.sessionsDir,
          http: { listen: null },
          ...config,
        },
        null,
        2,
      ),
    );
  }

  /** Writes config/companies/<id>.json. */
  writeCompanyConfig(company: string, override: Record<string, unknown>): void {
    writeFileSync(path.join(this.root, "config", "companies", `${company}.json`), JSON.stringify(override));
  }

  /** A pino logger that collects lines (parsed) in `logLines`. */
  logger(): Logger {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
          this.rawLog.push(line);
          this.logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    return pino({ level: "debug" }, sink);
  }

  /** Makes `company` hold exactly `count` session files (plus nothing else). */
  setFileCount(company: string, count: number): void {
    const dir = path.join(this.sessionsDir, company);
    mkdirSync(dir, { recursive: true });
    const existing = readdirSync(dir)
      .filter((n) => n.startsWith("session-"))
      .sort();
    for (let i = existing.length; i < count; i++)
      writeFileSync(path.join(dir, `session-${1000 + i}.0.json`), "{}");
    for (const name of existing.slice(count)) unlinkSync(path.join(dir, name));
  }

  /** Starts an in-process supervisor on this installation. */
  async startSupervisor(
    options: {
      apiRoot?: string;
      token?: string | null;
      watch?: boolean;
      /** Run the recovery ladder (WARDEN_HOME = this.home). */
      ladder?: boolean;
      probe?: (host: string, port: number, timeoutMs: number) => Promise<boolean>;
      /** Run the Telegram bot (token and apiRoot filled in). */
      bot?: Omit<NonNullable<SupervisorOptions["bot"]>, "token" | "apiRoot">;
      clock?: Clock;
      /** Serve HTTP on 127.0.0.1 (a free port; see `supervisor.http.boundAddress`) with this token. */
      http?: { token?: string };
    } = {},
  ) {
    const store = openStore(path.join(this.home, "warden.db"));
    const logger = this.logger();
    const token = options.token === null ? undefined : (options.token ?? TEST_TOKEN);
    const supervisor = new Supervisor({
      config: loadConfig(this.configFile),
      store,
      logger,
      clock: options.clock ?? { now: () => Date.now() },
      notifiers: createNotifiers({ telegramToken: token, telegramApiRoot: options.apiRoot }, logger),
      watch: options.watch ?? true,
      dispatcher: { retryBaseMs: 100, retryMaxMs: 400, perTargetIntervalMs: 50 },
      ...(options.ladder ? { home: this.home, probe: options.probe } : {}),
      ladder: options.ladder === true,
      ...(options.bot && token
        ? { home: this.home, bot: { ...options.bot, token, apiRoot: options.apiRoot } }
        : {}),
      ...(options.http
        ? { http: { address: { host: "127.0.0.1", port: 0 }, token: options.http.token } }
        : {}),
    });
    this.running.push({ supervisor, store });
    await supervisor.start();
    return { supervisor, store };
  }

  /** Stops a supervisor started here (as SIGTERM would). */
  async stopSupervisor(supervisor: Supervisor, flushMs = 1_000): Promise<void> {
    const entry = this.running.find((r) => r.supervisor === supervisor);
    await supervisor.close(flushMs);
    entry?.store.close();
    this.running.splice(this.running.indexOf(entry as never), 1);
  }

  /** Stops everything and removes the temp folders. */
  async cleanup(): Promise<void> {
    for (const { supervisor, store } of this.running.splice(0)) {
      await supervisor.close(0);
      store.close();
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
