/**
 * A state folder this process cannot write (another owner after a redeploy, a read-only mount) is
 * named in one line with its fix, at start-up and in `warden doctor`. Real folders with a wrong
 * owner and mode: as root (CI) the processes run as uid 1000, because root passes every access
 * check; as any other user the folders are made read-only for their owner instead.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findVolumeProblems, stateVolumes } from "../src/fs/volume-access.js";
import { entryArgs } from "./helpers/entry.js";
import { tempDir } from "./helpers/temp-dir.js";

const repo = path.resolve(import.meta.dirname, "..");
const isRoot = process.getuid?.() === 0;
/** Who the checked processes run as: uid 1000 when we are root (as in the image), else ourselves. */
const app = isRoot
  ? { uid: 1000, gid: 1000 }
  : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** A fleet layout in a fresh temp dir: config, sessions with one company, home; all owned by `app`. */
function makeFleet() {
  const root = tempDir();
  // mkdtemp makes it 0700: the app uid must be able to reach the fleet inside.
  chmodSync(root, 0o755);
  const sessions = path.join(root, "sessions");
  const home = path.join(root, "data");
  mkdirSync(path.join(sessions, "acme"), { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(sessions, "acme", "creds.json"), "{}");
  const configFile = path.join(root, "warden.json");
  writeFileSync(
    configFile,
    JSON.stringify({ sessionsDir: sessions, http: { listen: null }, fleet: { probe: null } }),
  );
  for (const dir of [sessions, home, path.join(sessions, "acme")]) chownSync(dir, app.uid, app.gid);
  chownSync(path.join(sessions, "acme", "creds.json"), app.uid, app.gid);
  return { root, sessions, home, configFile };
}

/** Makes `dir` unusable by `app`: root-owned when we are root, read-only for its owner otherwise. */
function takeAway(dir: string, mode = 0o755): void {
  if (isRoot) chownSync(dir, 0, 0);
  chmodSync(dir, isRoot ? mode : 0o555);
}

/** Runs a src entry file as `app` (the suite's build of src, see helpers/entry.ts), as pm2 would. */
function runAsApp(
  entry: `src/${string}.ts`,
  args: string[],
  fleet: { root: string; configFile: string; home: string },
) {
  return spawnSync(process.execPath, [...entryArgs(entry), ...args], {
    cwd: repo,
    uid: app.uid,
    gid: app.gid,
    env: {
      PATH: process.env.PATH,
      HOME: fleet.root,
      WARDEN_CONFIG: fleet.configFile,
      WARDEN_HOME: fleet.home,
      PM2_HOME: path.join(fleet.root, "no-pm2"),
      NODE_APP_INSTANCE: "0",
      TELEGRAM_BOT_TOKEN: "",
    },
    encoding: "utf8",
    timeout: 60_000,
  });
}

/** The log lines of a run (pino JSON on stdout), parsed. */
function logLines(run: SpawnSyncReturns<string>): { level: number; msg: string }[] {
  return run.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

describe("start-up refuses a state folder it cannot write, in one line with the fix", () => {
  it("the supervisor names WARDEN_HOME owned by another uid, with chown -R, exits 78, no stack trace", () => {
    const fleet = makeFleet();
    takeAway(fleet.home);
    const run = runAsApp("src/supervisor/main.ts", [], fleet);
    expect(run.status, run.stderr).toBe(78);
    const fatal = logLines(run).filter((l) => l.level === 60);
    expect(fatal.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^WARDEN_HOME ${fleet.home}: uid ${app.uid} cannot write it .*fix: chown -R ${app.uid}:${app.gid} ${fleet.home}`,
        ),
      ),
    ]);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("the worker names a company folder left to another owner inside sessionsDir", () => {
    const fleet = makeFleet();
    const company = path.join(fleet.sessions, "acme");
    takeAway(company, 0o700);
    const run = runAsApp("src/worker/main.ts", [], fleet);
    expect(run.status, run.stderr).toBe(78);
    const fatal = logLines(run).filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toContain(
      `sessionsDir ${fleet.sessions}: uid ${app.uid} cannot read and write ${company}`,
    );
    expect(fatal[0]?.msg).toContain(`fix: chown -R ${app.uid}:${app.gid} ${fleet.sessions}`);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("warden doctor fails the writable check with the same fix and passes it once the owner is right", () => {
    const fleet = makeFleet();
    takeAway(fleet.sessions);
    const before = runAsApp("src/cli/main.ts", ["doctor", "--json"], fleet);
    expect(before.status).toBe(1);
    const checks = (JSON.parse(before.stdout) as { checks: { name: string; status: string; fix?: string }[] })
      .checks;
    expect(checks.find((c) => c.name === "writable sessionsDir")).toMatchObject({
      status: "fail",
      fix: expect.stringContaining(`chown -R ${app.uid}:${app.gid} ${fleet.sessions}`),
    });
    expect(checks.find((c) => c.name === "writable WARDEN_HOME")?.status).toBe("ok");

    chownSync(fleet.sessions, app.uid, app.gid);
    chmodSync(fleet.sessions, 0o755);
    const after = runAsApp("src/cli/main.ts", ["doctor", "--json"], fleet);
    const fixed = (JSON.parse(after.stdout) as { checks: { name: string; status: string }[] }).checks;
    expect(fixed.filter((c) => c.name.startsWith("writable")).map((c) => c.status)).toEqual(["ok", "ok"]);
  }, 60_000);
});

describe("findVolumeProblems", () => {
  it("finds nothing wrong where this process owns everything, and accepts a folder it can still create", () => {
    const root = tempDir();
    mkdirSync(path.join(root, "sessions", "acme"), { recursive: true });
    writeFileSync(path.join(root, "sessions", "acme", "creds.json"), "{}");
    expect(
      findVolumeProblems(stateVolumes(path.join(root, "sessions"), path.join(root, "not-yet", "data"))),
    ).toEqual([]);
  });

  it("names a sessionsDir that is a file", () => {
    const root = tempDir();
    const file = path.join(root, "a-file");
    writeFileSync(file, "");
    const [problem] = findVolumeProblems(stateVolumes(file, root));
    expect(problem?.line).toBe(`sessionsDir ${file}: is not a folder; fix: point sessionsDir at a folder`);
  });
});
