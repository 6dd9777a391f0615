/**
 * Every command wa-warden suggests runs as printed where it is suggested: in a checkout
 * `npm run warden -- …` and `npx pm2 …` with the shell's PM2_HOME spelled out, in the image
 * `warden …`. The printed forms are run through a real shell here, not compared as strings only.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { nextStep } from "../src/alerts/format-alert.js";
import { fixCommands } from "../src/cli/doctor-checks.js";
import { cliInvocation, installKindOf, thisInstall, wardenCommand } from "../src/cli-invocation.js";
import { companySettings, loadConfig } from "../src/config/load.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const sh = promisify(execFile);
const scripts = (
  JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function temp(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Runs a printed command line through /bin/sh from the checkout, as an operator pastes it. */
function paste(line: string, env: Record<string, string> = {}) {
  return sh("/bin/sh", ["-c", line], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: "silent", ...env } });
}

describe("which install this is", () => {
  it("a checkout runs from src/ (this test too); the image runs from dist/ with src/ removed", () => {
    expect(thisInstall().kind).toBe("checkout");
    expect(installKindOf(path.join(repoRoot, "src", "cli-invocation.ts"))).toBe("checkout");
    const image = temp("warden-image-");
    mkdirSync(path.join(image, "dist"));
    expect(installKindOf(path.join(image, "dist", "cli-invocation.js"))).toBe("image");
    // A checkout built with `npm run build` still has src/: warden is not on its PATH.
    mkdirSync(path.join(image, "src"));
    expect(installKindOf(path.join(image, "dist", "cli-invocation.js"))).toBe("checkout");
  });

  it("names the commands for each", () => {
    const home = "/home/op";
    const checkout = cliInvocation("checkout", {
      pm2Home: "/srv/my pm2",
      configFile: "/srv/app/config/warden.json",
      homeDir: home,
    });
    expect(checkout.warden("status acme --json")).toBe("npm run warden -- status acme --json");
    expect(checkout.pm2("ls")).toBe("PM2_HOME='/srv/my pm2' npx pm2 ls");
    expect(checkout.start).toBe("PM2_HOME='/srv/my pm2' npm start");
    const usual = cliInvocation("checkout", {
      pm2Home: "/home/op/.pm2",
      configFile: "/srv/app/config/warden.json",
      homeDir: home,
    });
    expect(usual.pm2("ls")).toBe("npx pm2 ls");
    expect(usual.start).toBe("npm start");
    // The demo's daemon (PM2_HOME=<demo>/pm2 beside <demo>/config) restarts with the demo, never npm start.
    const demo = cliInvocation("checkout", {
      pm2Home: "/r/demo/pm2",
      configFile: "/r/demo/config/warden.json",
    });
    expect(demo.start).toBe("npm run demo");
    const image = cliInvocation("image");
    expect(image.warden("status acme")).toBe("warden status acme");
    expect([image.start, image.startWhere]).toEqual([
      "docker compose up -d --force-recreate",
      "on the Docker host",
    ]);
    expect(checkout.startWhere).toBe("from this shell");
    expect(wardenCommand("health")).toBe("npm run warden -- health");
  });
});

describe("suggested commands run as printed from the checkout", () => {
  it("an alert's `By hand:` commands and doctor's config fix reach the CLI with their options", async () => {
    const config = loadConfig(path.join(repoRoot, "config", "warden.json"));
    const text = nextStep("monitor", companySettings(config, "acme"), { total: 130, counted: 130 }, "acme");
    const printed = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    expect(printed).toEqual(["npm run warden -- cleanup acme --dry-run"]);
    const home = temp("warden-inv-home-");
    const env = { WARDEN_CONFIG: path.join(repoRoot, "config", "warden.json"), WARDEN_HOME: home };
    // `--json` goes to warden, not to npm (`npm run warden status --json` printed the table).
    const status = await paste(wardenCommand("status --json"), env);
    expect(JSON.parse(status.stdout.slice(status.stdout.indexOf("{")))).toHaveProperty("companies", []);
    const fix = fixCommands({ pm2Home: path.join(home, "pm2"), configFile: env.WARDEN_CONFIG });
    const check = await paste(fix.warden("config check"), env);
    expect(check.stdout).toContain("warden.json");
  });

  it("doctor's pm2 commands address the PM2_HOME they print (a path with a space included)", async () => {
    const pm2Home = path.join(temp("warden inv pm2 "), "pm2");
    const fix = fixCommands({ pm2Home, configFile: path.join(repoRoot, "config", "warden.json") });
    expect(fix.start).toMatch(/^PM2_HOME='.+' npm start$/);
    // `npm start` (scripts/start.ts) is the script that deletes and starts the apps again.
    expect(scripts.start).toContain("scripts/start.ts");
    expect(scripts.demo).toBeDefined();
    // The shell's PM2_HOME is another folder: the printed prefix must win over it.
    const decoy = temp("warden-inv-decoy-");
    const env = { PM2_HOME: decoy };
    try {
      const ping = await paste(fix.pm2("ping"), env);
      expect(ping.stdout).toContain("pong");
      expect(existsSync(path.join(pm2Home, "rpc.sock"))).toBe(true);
    } finally {
      await paste(fix.pm2("kill"), env);
    }
    expect(existsSync(path.join(pm2Home, "rpc.sock"))).toBe(false);
    expect(existsSync(path.join(decoy, "rpc.sock"))).toBe(false);
  });
});
