/**
 * Live vs stale (v7), on folders built by the real Baileys library: live contact files are no
 * alarm, stale ones are, `warden cleanup` removes exactly the stale ones, and the pre-key floor does
 * not follow preKeyReserve.
 */
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { countSnapshot } from "../src/actions/cleanup/count-stale.js";
import { planCleanup } from "../src/actions/cleanup/plan-cleanup.js";
import { planReset } from "../src/actions/cleanup/plan-reset.js";
import { collectStatus } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { classifyFile } from "../src/fleet/classify-file.js";
import { fileUser, ownUsersOf } from "../src/fleet/file-user.js";
import { scanFolderSync } from "../src/fleet/scan-folder.js";
import { createCompanyFolder, peerJid, writeKeys } from "./helpers/baileys-folder.js";
import { runCli } from "./helpers/run-cli.js";

const DAY = 86_400_000;
const ME = "5511987654321:12@s.whatsapp.net";
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A temp install: sessions/, config/warden.json, home/. */
function install(warden: Record<string, unknown> = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-stale-"));
  roots.push(root);
  const sessionsDir = path.join(root, "sessions");
  const home = path.join(root, "home");
  mkdirSync(sessionsDir);
  mkdirSync(home);
  const configFile = path.join(root, "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir, fleet: { probe: null }, ...warden }));
  return { root, sessionsDir, home, configFile, env: { WARDEN_CONFIG: configFile, WARDEN_HOME: home } };
}

/** What Baileys keeps per active contact beside the sessions: identity keys, lid-mappings, device list, tctoken. */
async function contactFiles(dir: string, contacts: number): Promise<void> {
  const identity: Record<string, unknown> = {};
  const mapping: Record<string, unknown> = {};
  const devices: Record<string, unknown> = {};
  const tokens: Record<string, unknown> = {};
  const data = { "identity-key": identity, "lid-mapping": mapping, "device-list": devices, tctoken: tokens };
  for (let i = 0; i < contacts; i++) {
    const pn = String(5511800000000 + i);
    const lid = String(300000000000000 + i);
    identity[`${lid}_1.0`] = Buffer.alloc(33, 1);
    identity[`${lid}_1.1`] = Buffer.alloc(33, 2);
    mapping[pn] = lid;
    mapping[`${lid}_reverse`] = pn;
    devices[pn] = ["0", "1"];
    tokens[`${lid}@lid`] = { token: Buffer.from("t"), timestamp: "1" };
  }
  await writeKeys(dir, data as never);
}

function age(dir: string, names: readonly string[], days: number): void {
  const t = (Date.now() - days * DAY) / 1000;
  for (const n of names) utimesSync(path.join(dir, n), t, t);
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("counting what Baileys v7 really leaves behind (real Baileys folders)", () => {
  it("40 active contacts (~320 fresh live files + 812 pre-keys) stay ok", async () => {
    const fx = install();
    const dir = path.join(fx.sessionsDir, "shop");
    await createCompanyFolder(dir, { preKeys: 812, sessions: 80, meJid: ME });
    await contactFiles(dir, 40);
    const [status] = await collectStatus(loadConfig(fx.configFile), undefined, Date.now());
    expect(status?.files.total).toBeGreaterThanOrEqual(320 + 812);
    expect(status?.files).toMatchObject({ basis: "stale", stale: 0, counted: 0, reserve: 812 });
    expect(status?.files.live).toBe(status?.files.total);
    expect(status?.level).toBe("ok");
  });

  it("170 sessions untouched for 30 days raise warning or more; `warden cleanup` brings it back to ok without touching a live file", async () => {
    const fx = install();
    const dir = path.join(fx.sessionsDir, "garage");
    const made = await createCompanyFolder(dir, { preKeys: 812, sessions: 170, senderKeys: 2, meJid: ME });
    await contactFiles(dir, 40);
    // Our own phone's session, as old as the rest: never stale.
    await writeKeys(dir, { session: { "5511987654321.0": Buffer.from("own") } } as never);
    const sessions = readdirSync(dir).filter((n) => n.startsWith("session-"));
    expect(sessions).toHaveLength(171);
    age(dir, sessions, 30);
    expect(made.sessionJids).toHaveLength(170);

    const before = await collectStatus(loadConfig(fx.configFile), undefined, Date.now());
    expect(before[0]?.files.stale).toBe(170);
    expect(["warning", "critical", "fatal"]).toContain(before[0]?.level);

    const live = readdirSync(dir).filter(
      (n) => !(n.startsWith("session-") && n !== "session-5511987654321.0.json"),
    );
    const hashes = new Map(live.map((n) => [n, sha(path.join(dir, n))]));
    const run = await runCli(["cleanup", "garage", "--json"], fx.env);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.deleted).toBe(170);
    expect(readdirSync(dir).sort()).toEqual([...hashes.keys()].sort());
    for (const [n, h] of hashes) expect(sha(path.join(dir, n)), n).toBe(h);

    const after = await collectStatus(loadConfig(fx.configFile), undefined, Date.now());
    expect(after[0]).toMatchObject({ level: "ok", files: { stale: 0 } });
  });

  it("with preKeyReserve 0, a folder of 900 pre-keys 30 days old loses at most its 88 oldest", async () => {
    const fx = install({ preKeyReserve: 0 });
    const dir = path.join(fx.sessionsDir, "bakery");
    await createCompanyFolder(dir, { preKeys: 900, meJid: ME });
    age(
      dir,
      readdirSync(dir).filter((n) => n.startsWith("pre-key-")),
      30,
    );
    const run = await runCli(["cleanup", "bakery", "--json"], fx.env);
    expect(run.code).toBe(0);
    const gone = (JSON.parse(run.stdout).delete as { file: string }[]).map((d) => d.file);
    expect(gone.length).toBeLessThanOrEqual(88);
    const ids = gone.map((f) => Number(/pre-key-(\d+)\.json/.exec(f)?.[1]));
    expect(Math.max(...ids)).toBeLessThanOrEqual(88);
    expect(readdirSync(dir).filter((n) => n.startsWith("pre-key-"))).toHaveLength(900 - gone.length);
  });
});

describe("config check", () => {
  it("warns when a company sets cleanup.keepPreKeys below 812, and still exits 0", async () => {
    const fx = install();
    mkdirSync(path.join(fx.root, "companies"));
    writeFileSync(
      path.join(fx.root, "companies", "acme.json"),
      JSON.stringify({ cleanup: { keepPreKeys: 50 } }),
    );
    const run = await runCli(["config", "check"], fx.env);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `Warning: ${path.join(fx.root, "companies", "acme.json")}: cleanup.keepPreKeys 50 < 812 (Baileys' INITIAL_PREKEY_COUNT)`,
    );
    const quiet = await runCli(["config", "check"], install().env);
    expect(quiet.stderr).not.toContain("Warning");
  });
});

describe("whose file is it", () => {
  it("reads the user part of every Baileys name, and our own users from creds.me", () => {
    expect(fileUser("session-200000000000002_1.0.json")).toBe("200000000000002");
    expect(fileUser("session-5511900000001.2.json")).toBe("5511900000001");
    expect(fileUser("identity-key-300000000000000_1.1.json")).toBe("300000000000000");
    expect(fileUser("sender-key-120363025000000000@g.us--5511987654321--12.json")).toBe("5511987654321");
    expect(fileUser("sender-key-120363025000000000@g.us--300000000000000_1--3.json")).toBe("300000000000000");
    expect(fileUser("tctoken-200000000000001@lid.json")).toBe("200000000000001");
    expect(fileUser("device-list-5511900000001.json")).toBe("5511900000001");
    expect(fileUser("lid-mapping-5511900000001.json")).toBeUndefined();
    expect(ownUsersOf({ me: { id: ME, lid: "98765:12@lid" } })).toEqual(["5511987654321", "98765"]);
    expect(ownUsersOf({})).toBeNull();
  });

  it("sender keys: ours after senderKeyMaxAge, other members' after foreignSenderKeyMaxAge; own sessions never", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "warden-own-"));
    roots.push(root);
    const dir = path.join(root, "acme");
    await createCompanyFolder(dir, { sessions: 3, senderKeys: 2, meJid: ME });
    await writeKeys(dir, {
      "sender-key": { [`120363025000000009@g.us::${peerJid(0).split("@")[0]}::0`]: Buffer.from("x") },
      session: { "5511987654321.3": Buffer.from("own") },
    } as never);
    age(
      dir,
      readdirSync(dir).filter((n) => n !== "creds.json"),
      10,
    );
    const now = Date.now();
    const snap = scanFolderSync(dir, "acme", now);
    const settings = loadConfig(install().configFile).defaults;
    const files = snap.names.map((name) => ({
      name,
      category: classifyFile(name),
      size: 1,
      mtimeMs: snap.mtimes.get(name) ?? Number.NaN,
    }));
    const plan = planCleanup(
      files,
      {
        keepPreKeys: 812,
        sessionMaxAgeMs: 7 * DAY,
        senderKeyMaxAgeMs: 3 * DAY,
        foreignSenderKeyMaxAgeMs: 30 * DAY,
        minAgeMs: 7 * DAY,
        ownUsers: snap.ownUsers,
      },
      now,
    );
    const gone = plan.delete.map((d) => d.file);
    expect(gone.filter((f) => f.startsWith("sender-key-"))).toHaveLength(2); // ours, 10d > 3d
    expect(gone.some((f) => f.includes("--5511900000000--"))).toBe(false); // theirs, 10d < 30d
    expect(gone).not.toContain("session-5511987654321.3.json");
    expect(gone.filter((f) => f.startsWith("session-"))).toHaveLength(3);
    expect(
      countSnapshot(snap, { ...settings, cleanup: { ...settings.cleanup, sessionMaxAge: 7 * DAY } }, now)
        .stale,
    ).toBe(5);
    // The reset keeps our own session too, and the floor of pre-keys.
    const reset = planReset(files, { keepPreKeys: 812, ownUsers: snap.ownUsers }).delete.map((d) => d.file);
    expect(reset).not.toContain("session-5511987654321.3.json");
    expect(reset.filter((f) => f.startsWith("session-"))).toHaveLength(3);
  });
});
