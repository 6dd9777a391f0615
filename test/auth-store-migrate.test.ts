/**
 * A real Baileys folder moved into a SQLite auth store and back through the CLI: the same counts in
 * `status` at each step, `warden cleanup` deletes exactly the stale rows after a verified backup,
 * a restore writes rows back, and the folder that comes back equals the original key by key (bytes
 * and mtimes) minus what the cleanup removed. A failed migration changes nothing.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { collectStatus } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { authDatabaseFile } from "../src/home-layout.js";
import { createCompanyFolder, writeKeys } from "./helpers/baileys-folder.js";
import { type PgCluster, startPgCluster } from "./helpers/pg-cluster.js";
import { runCli } from "./helpers/run-cli.js";

const DAY = 86_400_000;
const ME = "5511987654321:12@s.whatsapp.net";
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function install() {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-authdb-"));
  roots.push(root);
  const sessionsDir = path.join(root, "sessions");
  const home = path.join(root, "home");
  mkdirSync(sessionsDir);
  mkdirSync(home);
  const configFile = path.join(root, "warden.json");
  writeFileSync(configFile, JSON.stringify({ sessionsDir, fleet: { probe: null } }));
  return {
    sessionsDir,
    home,
    env: {
      WARDEN_CONFIG: configFile,
      WARDEN_HOME: home,
      WARDEN_AUTH_KEY: "rows passphrase",
      WARDEN_BACKUP_KEY: "archive passphrase",
    },
  };
}

/** Name → sha256 and mtime (ms) of every file of a folder. */
function digest(dir: string, skip: (name: string) => boolean = () => false) {
  const out = new Map<string, { sha: string; mtime: number }>();
  for (const name of readdirSync(dir).sort()) {
    if (skip(name)) continue;
    const file = path.join(dir, name);
    out.set(name, {
      sha: createHash("sha256").update(readFileSync(file)).digest("hex"),
      mtime: Math.round(statSync(file).mtimeMs),
    });
  }
  return out;
}

/**
 * The done-when folder: a real Baileys folder with 812 pre-keys, 38 contacts' keys and 98 sessions
 * of which 60 idle for 30 days (the stale ones); returns their names and the folder's digest.
 */
async function realFolder(dir: string) {
  await createCompanyFolder(dir, { preKeys: 812, sessions: 98, senderKeys: 2, meJid: ME });
  // 38 contacts' other keys (identity, lid mapping, device list), fresh.
  const identity: Record<string, unknown> = {};
  const mapping: Record<string, unknown> = {};
  for (let i = 0; i < 38; i++) {
    identity[`${300000000000000 + i}_1.0`] = Buffer.alloc(33, 1);
    mapping[String(5511800000000 + i)] = String(300000000000000 + i);
  }
  await writeKeys(dir, { "identity-key": identity, "lid-mapping": mapping } as never);
  const sessions = readdirSync(dir)
    .filter((n) => n.startsWith("session-"))
    .sort();
  const idle = sessions.slice(0, 60);
  const t = (Date.now() - 30 * DAY) / 1000;
  for (const n of idle) utimesSync(path.join(dir, n), t, t);
  return { idle, original: digest(dir) };
}

/** Name → sha256 and mtime in whole seconds (ages that went through a tar archive keep seconds). */
function seconds(d: ReturnType<typeof digest>) {
  return new Map([...d].map(([name, v]) => [name, { sha: v.sha, mtime: Math.floor(v.mtime / 1000) }]));
}

/** What `status --json` shows for the company (collected in-process: the CLI runs are the actions). */
async function status(env: Record<string, string>) {
  const [company] = await collectStatus(
    loadConfig(env.WARDEN_CONFIG as string),
    undefined,
    Date.now(),
    "shop",
    env.WARDEN_HOME,
    env.WARDEN_PG_URL,
  );
  return {
    store: company?.store,
    total: company?.files.total,
    stale: company?.files.stale,
    byCategory: company?.files.byCategory,
    creds: company?.creds,
  };
}

async function cli(args: string[], env: Record<string, string>) {
  const run = await runCli([...args, "--json"], env);
  expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout);
}

describe("auth state in SQLite: same counts, same actions, migration both ways", () => {
  it("files → sqlite → cleanup → restore → cleanup → files: the folder equals the original minus the 60 stale keys", async () => {
    const fx = install();
    const dir = path.join(fx.sessionsDir, "shop");
    const { idle, original } = await realFolder(dir);

    const asFiles = await status(fx.env);
    expect(asFiles).toMatchObject({ store: "files", stale: 60, creds: "ok" });

    const moved = await cli(["auth", "migrate", "shop", "--to", "sqlite"], fx.env);
    expect(moved).toMatchObject({ from: "files", to: "sqlite", keys: original.size });
    expect(readdirSync(dir)).toEqual(["warden-auth.json"]);
    expect(existsSync(authDatabaseFile(fx.home, "shop"))).toBe(true);
    expect(digest(moved.archived)).toEqual(original); // the old folder, kept aside as it was
    expect(await status(fx.env)).toEqual({ ...asFiles, store: "sqlite" });

    const cleaned = await cli(["cleanup", "shop"], fx.env);
    expect(cleaned.deleted).toBe(60);
    expect((cleaned.delete as { file: string }[]).map((d) => d.file).sort()).toEqual(idle);
    const afterCleanup = await status(fx.env);
    expect(afterCleanup).toMatchObject({ store: "sqlite", total: (asFiles.total ?? 0) - 60, stale: 0 });

    // The cleanup's backup verifies, and restores into the rows: every key back, the 60 stale again.
    const verified = await cli(["verify", "shop", path.basename(cleaned.backup)], fx.env);
    expect(verified).toMatchObject({ results: [{ ok: true }] });
    await cli(["restore", "shop", path.basename(cleaned.backup)], fx.env);
    expect(await status(fx.env)).toEqual({ ...asFiles, store: "sqlite" });
    expect((await cli(["cleanup", "shop"], fx.env)).deleted).toBe(60);

    const back = await cli(["auth", "migrate", "shop", "--to", "files"], fx.env);
    expect(back).toMatchObject({ from: "sqlite", to: "files", keys: original.size - 60 });
    expect(existsSync(authDatabaseFile(fx.home, "shop"))).toBe(false);
    // Ages went through a backup archive (tar keeps whole seconds): equal to the second.
    const expected = new Map([...original].filter(([name]) => !idle.includes(name)));
    expect(seconds(digest(dir))).toEqual(seconds(expected));
    expect(await status(fx.env)).toEqual({ ...afterCleanup, store: "files" });
  }, 300_000);

  it("a migration that cannot complete changes nothing and says why", async () => {
    const fx = install();
    const dir = path.join(fx.sessionsDir, "shop");
    await createCompanyFolder(dir, { preKeys: 5, sessions: 2, meJid: ME });
    writeFileSync(path.join(dir, "notes.txt"), "not a key");
    const before = digest(dir);
    const run = await runCli(["auth", "migrate", "shop", "--to", "sqlite"], fx.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/WARDEN_ERR_AUTH_MIGRATE_FAILED|not Baileys keys/);
    expect(run.stderr).toMatch(/notes\.txt/);
    expect(digest(dir)).toEqual(before);
    expect(existsSync(authDatabaseFile(fx.home, "shop"))).toBe(false);

    // Without a key, a database store is refused before anything is written.
    rmSync(path.join(dir, "notes.txt"));
    const { WARDEN_AUTH_KEY: _a, WARDEN_BACKUP_KEY: _b, ...noKey } = fx.env;
    const keyless = await runCli(["auth", "migrate", "shop", "--to", "sqlite"], noKey);
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toMatch(/WARDEN_AUTH_KEY/);
    expect(readdirSync(dir)).not.toContain("warden-auth.json");
  }, 60_000);
});

describe("auth state in PostgreSQL: the done-when chain files → sqlite → postgres → files", () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("same status at each step, cleanup removes exactly the 60 stale after a verified backup, the folder comes back minus those 60", async () => {
    const fx = install();
    const env = { ...fx.env, WARDEN_PG_URL: cluster.url };
    const dir = path.join(fx.sessionsDir, "shop");
    const { idle, original } = await realFolder(dir);
    const asFiles = await status(env);
    expect(asFiles).toMatchObject({ store: "files", stale: 60, creds: "ok" });
    expect(asFiles.total).toBe(original.size);

    await cli(["auth", "migrate", "shop", "--to", "sqlite"], env);
    expect(await status(env)).toEqual({ ...asFiles, store: "sqlite" });

    const toPg = await cli(["auth", "migrate", "shop", "--to", "postgres"], env);
    expect(toPg).toMatchObject({ from: "sqlite", to: "postgres", keys: original.size });
    expect(existsSync(authDatabaseFile(fx.home, "shop"))).toBe(false); // the sqlite file was archived
    expect(toPg.archived).toMatch(/before-migrate\.sqlite$/);
    expect(readdirSync(dir)).toEqual(["warden-auth.json"]);
    expect(await status(env)).toEqual({ ...asFiles, store: "postgres" });

    const cleaned = await cli(["cleanup", "shop"], env);
    expect(cleaned.deleted).toBe(60);
    expect((cleaned.delete as { file: string }[]).map((d) => d.file).sort()).toEqual(idle);
    const afterCleanup = await status(env);
    expect(afterCleanup).toMatchObject({ store: "postgres", total: original.size - 60, stale: 0 });
    expect(await cli(["verify", "shop", path.basename(cleaned.backup)], env)).toMatchObject({
      results: [{ ok: true }],
    });

    // The backup restores into the postgres rows (the rows before it are kept aside), then cleanup again.
    const restored = await cli(["restore", "shop", path.basename(cleaned.backup)], env);
    expect(JSON.stringify(restored)).not.toContain(cluster.password);
    expect(await status(env)).toEqual({ ...asFiles, store: "postgres" });
    expect((await cli(["cleanup", "shop"], env)).deleted).toBe(60);

    const back = await cli(["auth", "migrate", "shop", "--to", "files"], env);
    expect(back).toMatchObject({ from: "postgres", to: "files", keys: original.size - 60 });
    expect(JSON.stringify(back)).not.toContain(cluster.password);
    const expected = new Map([...original].filter(([name]) => !idle.includes(name)));
    expect(seconds(digest(dir))).toEqual(seconds(expected));
    expect(await status(env)).toEqual({ ...afterCleanup, store: "files" });
    // The company's live rows are gone from the shared tables; what remains is set aside under another name.
    const live = await cluster.psql("SELECT count(*) FROM warden_auth.companies WHERE company = 'shop'");
    expect(live.trim()).toBe("0");
  }, 300_000);
});
