/**
 * The CLI explains itself: per-command help, one-line "did you mean", --json errors
 * with their code, the audit actor without $USER, mute/unmute, the read commands, config check's
 * effective values, verify without backups, and a dry run that says why its plan is empty.
 * The CLI runs as a child process on real folders and a real SQLite file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { ExitCodes } from "../src/errors.js";
import { openStore } from "../src/store/store.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { runCli } from "./helpers/run-cli.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

const root = mkdtempSync(path.join(os.tmpdir(), "warden-cli-"));
const sessionsDir = path.join(root, "sessions");
const env = {
  WARDEN_CONFIG: path.join(root, "config", "warden.json"),
  WARDEN_HOME: path.join(root, "data"),
};

beforeAll(async () => {
  mkdirSync(path.dirname(env.WARDEN_CONFIG), { recursive: true });
  writeFileSync(
    env.WARDEN_CONFIG,
    JSON.stringify({ sessionsDir, cleanup: { keepPreKeys: 5, minAge: "7d" }, preKeyReserve: "auto" }),
  );
  // acme counts every pre-key (no 812 reserve) so that a cleanup has pre-keys to plan.
  mkdirSync(path.join(root, "config", "companies"));
  writeFileSync(path.join(root, "config", "companies", "acme.json"), JSON.stringify({ preKeyReserve: 0 }));
  await createCompanyFolder(path.join(sessionsDir, "acme"), { preKeys: 20 });
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

const lines = (text: string) => text.trim().split("\n");

describe.concurrent("the warden CLI explains itself", () => {
  it("an unknown command: one line with a did-you-mean, exit 2", async () => {
    const r = await runCli(["stauts"], env);
    expect(r.code).toBe(ExitCodes.USAGE);
    expect(lines(r.stderr)).toEqual([
      'warden: Unknown command "stauts"; did you mean "status"? (warden --help)',
    ]);
    const sub = await runCli(["config", "chek"], env);
    expect(sub.stderr).toContain('did you mean "config check"?');
  });

  it("--version prints the version; a mistyped company id gets a did-you-mean", async () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "..", "package.json"), "utf8"));
    const v = await runCli(["--version"], env);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(`warden ${pkg.version}`);
    const typo = await runCli(["status", "acm"], env);
    expect(typo.code).toBe(ExitCodes.FAILURE);
    expect(lines(typo.stderr)).toEqual([
      expect.stringMatching(/^warden: Unknown company "acm": no folder .*; did you mean "acme"\?$/),
    ]);
  });

  it("an unknown option: one line naming the command and the option it probably meant", async () => {
    const r = await runCli(["cleanup", "acme", "--dyr-run"], env);
    expect(r.code).toBe(ExitCodes.USAGE);
    expect(lines(r.stderr)).toEqual([
      "warden: cleanup has no option --dyr-run; did you mean --dry-run? (warden cleanup --help)",
    ]);
  });

  it("per-command help", async () => {
    const r = await runCli(["cleanup", "--help"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: warden cleanup <company> \[options\]/);
    expect(r.stdout).toMatch(/--dry-run\s+print the plan/);
    expect(r.stdout).toMatch(/--json/);
    const overview = await runCli(["--help"], env);
    for (const c of ["status", "mute", "unmute", "history", "audit", "steps", "config check", "verify"])
      expect(overview.stdout).toContain(`  ${c}`);
  });

  it("--json errors are JSON on stdout with the error code", async () => {
    const r = await runCli(["status", "nosuch", "--json"], env);
    expect(r.code).toBe(ExitCodes.FAILURE);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: { code: "WARDEN_ERR_COMPANY_UNKNOWN", exitCode: 1, message: expect.stringContaining("nosuch") },
    });
    const usage = await runCli(["status", "--frob", "--json"], env);
    expect(usage.code).toBe(ExitCodes.USAGE);
    expect(JSON.parse(usage.stdout).error.code).toBe("WARDEN_ERR_USAGE");
  });

  it("config check: resolved values and one duration format; an unknown company fails", async () => {
    const r = await runCli(["config", "check"], env);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.defaults.preKeyReserve).toBe('"auto" (812)');
    expect(printed.defaults.cleanup).toMatchObject({
      minAge: "7d",
      sessionMaxAge: "14d",
      senderKeyMaxAge: "3d",
      foreignSenderKeyMaxAge: "30d",
    });
    // Every duration as a duration: no millisecond count anywhere in the output.
    expect(r.stdout).not.toMatch(/: \d{5,}/);
    expect(printed.defaults.alerts.remindEvery).toBe("1h");
    expect(printed.scan).toEqual({ reconcileEvery: "1m", debounce: "500ms" });
    expect(printed.history.keep).toBe("30d");
    const unknown = await runCli(["config", "check", "nosuch"], env);
    expect(unknown.code).toBe(ExitCodes.FAILURE);
    expect(unknown.stderr).toContain('Unknown company "nosuch"');
  });

  it("verify with no backups says so and exits 1", async () => {
    const r = await runCli(["verify", "acme"], env);
    expect(r.code).toBe(ExitCodes.FAILURE);
    expect(r.stdout).toContain("acme: no backups to verify");
  });

  it("a dry run with an empty plan says why; files are listed in numeric order", async () => {
    const r = await runCli(["cleanup", "acme", "--dry-run"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/younger than cleanup\.minAge \(7d\); the first becomes eligible on 20\d\d-/);
    expect(r.stdout).toMatch(/--force would delete 15\./);
    const forced = JSON.parse(
      (await runCli(["cleanup", "acme", "--dry-run", "--force", "--json"], env)).stdout,
    );
    const ids = (forced.delete as { file: string }[]).map((d) => Number(/pre-key-(\d+)/.exec(d.file)?.[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).toHaveLength(15);
    // --reset: the reset plan (a person's call; the ladder never resets by default), creds.json kept.
    const reset = JSON.parse(
      (await runCli(["cleanup", "acme", "--reset", "--dry-run", "--json"], env)).stdout,
    );
    expect(reset.delete.length).toBeGreaterThan(0);
    expect((reset.delete as { file: string }[]).map((d) => d.file)).not.toContain("creds.json");
  });
});

describe("mute, unmute and the read commands", () => {
  it("mutes in SQLite with an audit row whose actor is the OS user when $USER is unset", async () => {
    const muted = await runCli(["mute", "acme", "2h", "--json"], { ...env, USER: "", LOGNAME: "" });
    expect(muted.code, muted.stderr).toBe(0);
    const until = Date.parse(JSON.parse(muted.stdout).mutedUntil);
    expect(until - Date.now()).toBeGreaterThan(7_000_000);
    const status = await runCli(["status"], env);
    expect(status.stdout).toMatch(/acme: alerts muted until \S+ by cli:/);
    const store = openStore(path.join(env.WARDEN_HOME, "warden.db"));
    try {
      expect(store.mutes.get("acme")).toMatchObject({
        company: "acme",
        until,
        actor: `cli:${os.userInfo().username}`,
      });
      const unmuted = await runCli(["unmute", "acme"], env);
      expect(unmuted.stdout).toContain("acme: alerts unmuted");
      expect(store.mutes.get("acme")).toBeUndefined();
      expect(store.audit.list("acme").map((a) => a.action)).toEqual(["mute", "unmute"]);
    } finally {
      store.close();
    }
    const audit = await runCli(["audit", "acme"], env);
    expect(lines(audit.stdout)).toHaveLength(2);
    expect(audit.stdout).toMatch(/ok\s+acme\s+mute\s+by cli:/);
    const bad = await runCli(["mute", "acme", "soon"], env);
    expect(bad.code).toBe(ExitCodes.USAGE);
    const typo = await runCli(["mute", "acmee", "1h"], env);
    expect(typo.code).toBe(ExitCodes.FAILURE);
    expect(typo.stderr).toContain('Unknown company "acmee"');
  });

  it("history and steps read what was recorded", async () => {
    const store = openStore(path.join(env.WARDEN_HOME, "warden.db"));
    const now = Date.now();
    store.connections.transition(
      { company: "acme", to: "reconnecting", code: 428, message: "closed", holder: null },
      now - 60_000,
    );
    store.ladder.addStep("acme", "reconnect", "down 5m, 1st reconnect of 3", "decided", now - 30_000);
    store.close();
    const history = await runCli(["history", "acme"], env);
    expect(history.stdout).toMatch(/conn\s+- -> reconnecting \(428\): closed/);
    const steps = await runCli(["steps", "acme", "--json"], env);
    expect(JSON.parse(steps.stdout).steps).toMatchObject([
      { step: "reconnect", reason: "down 5m, 1st reconnect of 3" },
    ]);
  });
});

describe("a mute from the store holds the alerts", () => {
  let fx: FleetFixture;
  beforeAll(() => {
    fx = new FleetFixture({ ...COUNT_EVERY_FILE, alerts: { remindEvery: "1h", hysteresis: 10 } });
  });
  afterAll(async () => fx.cleanup());

  it("levels move, nothing is queued until the mute ends", async () => {
    fx.setFileCount("acme", 100);
    const pre = openStore(path.join(fx.home, "warden.db"));
    pre.mutes.set("acme", Date.now() + 3_600_000, "cli:test", Date.now());
    pre.close();
    const { store, supervisor } = await fx.startSupervisor({ token: null });
    fx.setFileCount("acme", 155);
    await waitFor(() => store.alertState.get("acme")?.level === "warning", { what: "level warning" });
    expect(store.outbox.list().filter((r) => r.kind === "level")).toHaveLength(0);
    store.mutes.clear("acme", "cli:test", Date.now());
    fx.setFileCount("acme", 185);
    await supervisor.fleet.fullScan();
    await waitFor(() => store.outbox.list().some((r) => r.level === "critical"), {
      what: "critical after unmute",
    });
  });
});

describe("warden pair", () => {
  it("says what happened and what to wait for, not a QR that does not exist yet (trap 6)", async () => {
    const fx = new FleetFixture({
      workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "2s", deadAfter: "5s" },
      // The first QR comes a while after the pairing starts, as with WhatsApp.
      simulation: { connectAfter: "20ms", initialPreKeys: 0, pairAfter: "1h" },
      driver: "simulated",
    });
    mkdirSync(path.join(fx.sessionsDir, "newco"), { recursive: true });
    const workerStore = openStore(path.join(fx.home, "warden.db"));
    workerStore.control.setDesired("newco", "stop", null, Date.now());
    const worker = createTestWorker({
      config: loadConfig(fx.configFile),
      store: workerStore,
      logger: fx.logger(),
      holder: "worker/0/1",
      maxBackoffMs: 100,
    });
    try {
      await worker.start();
      const r = await runCli(["pair", "newco"], { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain("QR available");
      expect(r.stdout).toMatch(/newco: pairing started; (no QR yet|the QR is ready)/);
      expect(r.stdout).toContain("npm run warden -- status newco");
    } finally {
      await worker.close();
      workerStore.close();
      await fx.cleanup();
    }
  });
});

describe("warden status", () => {
  it("shows the level the alerts are at, hysteresis included (trap 5)", async () => {
    const fx = new FleetFixture({ ...COUNT_EVERY_FILE, alerts: { remindEvery: "1h", hysteresis: 10 } });
    try {
      fx.setFileCount("acme", 116);
      const store = openStore(path.join(fx.home, "warden.db"));
      // The alerts went to monitor at 120; 116 is not 10 below 120, so monitor holds.
      store.alertState.put(
        "acme",
        { level: "monitor", levelSince: Date.now() - 60_000, lastAlertAt: null },
        Date.now(),
      );
      store.close();
      const r = await runCli(["status", "--json"], { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home });
      expect(JSON.parse(r.stdout).companies[0]).toMatchObject({ id: "acme", level: "monitor" });
      const text = await runCli(["status"], { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home });
      expect(text.stdout).toMatch(
        /Counted \(count\.basis "counted"\): every file but the newest pre-keys of preKeyReserve \(.+\); levels at monitor 120/,
      );
      fx.setFileCount("acme", 109);
      const below = await runCli(["status", "--json"], {
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: fx.home,
      });
      expect(JSON.parse(below.stdout).companies[0].level).toBe("ok");
    } finally {
      await fx.cleanup();
    }
  });
});

describe("warden verify", () => {
  it("reports one line per backup, each distinct problem once", async () => {
    const made = await runCli(["backup", "acme", "--json"], env);
    expect(made.code, made.stderr).toBe(0);
    const file = JSON.parse(made.stdout).backup as string;
    const bytes = readFileSync(file);
    for (let i = Math.floor(bytes.length / 3); i < Math.floor(bytes.length / 3) + 40; i++)
      bytes[i] = (bytes[i] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const r = await runCli(["verify", "acme"], env);
    expect(r.code).toBe(ExitCodes.FAILURE);
    expect(lines(r.stdout)).toHaveLength(1);
    expect(r.stdout).toMatch(/^FAIL {2}\S+\.tar\.gz: /);
    const json = JSON.parse((await runCli(["verify", "acme", "--json"], env)).stdout);
    const problems = json.results[0].problems as string[];
    expect(new Set(problems).size).toBe(problems.length);
  });
});
