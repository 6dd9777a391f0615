/**
 * `npm run test:image`: builds the container image here, where there is no Docker daemon and no
 * registry, and runs it. Exit 1 on the first thing that is not as an operator expects.
 *
 * 1. Tools: buildah and mmdebstrap, installed with apt-get when missing (root only).
 * 2. Base: a Debian bookworm rootfs from mmdebstrap plus this machine's Node (image-base.ts),
 *    cached as a tarball keyed by its package list and in buildah's vfs store.
 * 3. Build: `buildah bud --format docker` of the Dockerfile with BASE set to it, without `--layers`
 *    (on vfs every cached layer is a full copy of the rootfs: slower than the steps it would save).
 *    npm reads this machine's npm cache (prefer-offline); better-sqlite3's install finds this
 *    machine's own compiled binary as its cached prebuild (same Node binary, so the same ABI), so
 *    the build never compiles it. The image stays in the vfs store as `wa-warden`.
 * 4. Run (image-smoke.ts), with host folders as the volumes, the config mounted read-only and the
 *    secrets as compose mounts them (0400, uid 1000, read through `*_FILE`): `warden config check`;
 *    the refusals (a data volume owned by root, a non-loopback listen without WARDEN_HTTP_TOKEN, a
 *    world-readable secret file); the image's entrypoint and command (tini, pm2-runtime) on fresh
 *    volumes with a generated company until /healthz answers 200 and the company is connected; a
 *    SIGTERM to tini that stops everything within the compose grace period. Then a redeploy on the
 *    same volumes (the same identity in creds.json, connected again, no QR), `warden cleanup` of an
 *    aged 101,000-file company started beside it, and a SIGTERM to tini at its first deletion: the
 *    cleanup must be killed mid-way (some stale files deleted, some left), what is left must hold
 *    no torn file, and every file gone must be in a backup that verifies with the backup key.
 * Timings (base, build, run) are printed at the end.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  watch,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { listBackups, verifyBackup } from "../src/actions/backup/backup.js";
import { addFiles, names } from "../test/helpers/baileys-folder.js";
import { digest } from "../test/helpers/folder-digest.js";
import { createPairedFolder } from "../test/helpers/paired-folder.js";
import { buildah, ensureBaseImage } from "./image-base.js";
import {
  exited,
  IMAGE_USER,
  killContainer,
  type Mounts,
  mainProcess,
  poll,
  runIn,
  startIn,
} from "./image-smoke.js";

const repo = path.resolve(import.meta.dirname, "..");
const IMAGE = "wa-warden";
const CONTAINER = "wa-warden-smoke";
const APP = { uid: 1000, gid: 1000 };
const DAY = 86_400_000;
/** compose.yaml's stop_grace_period: checked against the file below, so the two cannot drift. */
const GRACE_MS = 30_000;
const HTTP_TOKEN = "smoke-test-token-0123456789abcdef";
const BACKUP_KEY = "smoke-test-backup-key-fedcba9876543210";
const timings: [string, number][] = [];
const started = Date.now();

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, logFile?: string): never {
  process.stderr.write(`test:image FAILED: ${message}\n`);
  if (logFile && existsSync(logFile))
    process.stderr.write(`--- ${logFile} (end) ---\n${readFileSync(logFile, "utf8").slice(-6_000)}\n`);
  process.exit(1);
}

async function timed<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
  const t = Date.now();
  const value = await fn();
  timings.push([label, Date.now() - t]);
  return value;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function has(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
}

function ensureTools(): void {
  const missing = ["buildah", "mmdebstrap"].filter((t) => !has(t));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    fail(`${missing.join(" and ")} missing: as root, apt-get install -y buildah mmdebstrap`);
  say(`tools: installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "buildah", "mmdebstrap"], { stdio: "inherit", env });
}

function checkGracePeriod(): void {
  const compose = readFileSync(path.join(repo, "compose.yaml"), "utf8");
  const grace = /stop_grace_period:\s*(\d+)s/.exec(compose)?.[1];
  if (Number(grace) * 1000 !== GRACE_MS)
    fail(`compose.yaml stop_grace_period is ${grace}s, this test assumes ${GRACE_MS / 1000}s`);
  const flush = /WARDEN_FLUSH_MS:\s*"(\d+)"/.exec(compose)?.[1];
  if (!(Number(flush) < GRACE_MS))
    fail(`compose.yaml WARDEN_FLUSH_MS ${flush} must be shorter than the grace period`);
}

/**
 * A folder of prebuild-install's cache holding this machine's compiled better-sqlite3 under the
 * name its install looks for first (the release URL's key): the build's npm ci unpacks it instead
 * of compiling for minutes. The base carries this very Node binary, so the ABI is the same.
 */
function seedPrebuilds(root: string): string {
  const pkgDir = path.join(repo, "node_modules", "better-sqlite3");
  const binary = path.join(pkgDir, "build", "Release", "better_sqlite3.node");
  if (!existsSync(binary)) fail(`${binary} is missing: run npm ci first`);
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")) as {
    version: string;
  };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const url = `https://github.com/WiseLibs/better-sqlite3/releases/download/v${version}/${name}`;
  const key = createHash("sha512").update(url).digest("hex").slice(0, 6);
  const dir = path.join(root, "prebuilds");
  mkdirSync(dir);
  execFileSync("tar", [
    "-czf",
    path.join(dir, `${key}-${name}`),
    "-C",
    pkgDir,
    "build/Release/better_sqlite3.node",
  ]);
  say(`better-sqlite3: the build gets this machine's binary as its cached prebuild (${name})`);
  return dir;
}

function build(baseImage: string, npmrc: string, prebuilds: string): void {
  const npmCache = path.join(os.homedir(), ".npm");
  mkdirSync(npmCache, { recursive: true });
  const args = ["bud", "--isolation", "chroot", "--format", "docker", "--pull-never"];
  args.push(
    "--build-arg",
    `BASE=${baseImage}`,
    "-v",
    `${npmCache}:/root/.npm`,
    // Read-write: prebuild-install takes a cached prebuild only when it could also replace it.
    "-v",
    `${prebuilds}:/root/.npm/_prebuilds`,
    "-v",
    `${npmrc}:/root/.npmrc:ro`,
  );
  args.push("-t", IMAGE, repo);
  buildah(args);
  // The image the tag moved from, untagged now: 750 MB of vfs copies per run otherwise.
  buildah(["rmi", "--prune"], { quiet: true });
}

/** The image's ENTRYPOINT + CMD and HEALTHCHECK, as Docker would run them. */
function imageConfig(): { main: string[]; healthcheck: string[]; user: string } {
  const inspect = JSON.parse(buildah(["inspect", "--type", "image", IMAGE], { quiet: true }));
  const config = inspect.Docker.config as {
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    User: string;
    Healthcheck: { Test: string[] } | null;
  };
  const test = config.Healthcheck?.Test ?? [];
  if (test[0] !== "CMD") fail(`the image has no exec-form HEALTHCHECK (got ${JSON.stringify(test)})`);
  return {
    main: [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])],
    healthcheck: test.slice(1),
    user: config.User,
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function getStatus(url: string, headers: Record<string, string> = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000, headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });
}

/** A folder owned by the app's uid, as a fresh named volume is. */
function volume(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, APP.uid, APP.gid);
  return dir;
}

function chownTree(dir: string): void {
  chownSync(dir, APP.uid, APP.gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p);
    else chownSync(p, APP.uid, APP.gid);
  }
}

/** `warden status --json` in the container: company id → connection state. */
function states(mounts: Mounts): Map<string, string> {
  const ran = runIn(CONTAINER, ["warden", "status", "--json"], mounts);
  if (ran.status !== 0) return new Map();
  const { companies } = JSON.parse(ran.stdout) as {
    companies: { id: string; connection: { state: string } | null }[];
  };
  return new Map(companies.map((r) => [r.id, r.connection?.state ?? "none"]));
}

/**
 * Stale sessions of bigco: enough that deleting them (one unlink each, 20-250 µs on a shared
 * 2-core machine: 2-25 s) lasts several times as long as the fleet takes to stop (0.3-0.5 s), so
 * the stop lands in the middle of the deletions (40,000 left only a 1.5x margin once).
 */
const STALE_SESSIONS = 100_000;

/** An aged company of ~101,000 files whose cleanup deletes most of them (app-state keys kept). */
async function makeBigCompany(dir: string): Promise<void> {
  await createPairedFolder(dir, "5511900000999");
  const body = (name: string) => JSON.stringify({ name, key: name.repeat(8) });
  for (const list of [
    names(600, (i) => `pre-key-${i + 1}.json`),
    names(STALE_SESSIONS, (i) => `session-55119${String(i).padStart(8, "0")}.0.json`),
    names(100, (i) => `sender-key-1203630${i}@g.us--5511900000${i % 10}--0.json`),
    names(4, (i) => `app-state-sync-key-AAAA${i}.json`),
  ])
    for (const name of list) addFiles(dir, [name], body(name));
  const old = (Date.now() - 30 * DAY) / 1000;
  for (const name of readdirSync(dir)) utimesSync(path.join(dir, name), old, old);
}

async function main(): Promise<void> {
  checkGracePeriod();
  await timed("tools", ensureTools);
  const base = await timed("base", () => ensureBaseImage(say));
  say(
    `base: ${base.image} (${base.source}; mmdebstrap ${seconds(base.mmdebstrapMs)}, import ${seconds(base.importMs)})`,
  );

  const root = mkdtempSync(path.join(os.tmpdir(), "warden-image-"));
  const npmrc = path.join(root, "npmrc");
  writeFileSync(npmrc, "prefer-offline=true\n");
  const prebuilds = seedPrebuilds(root);
  await timed("build", () => build(base.image, npmrc, prebuilds));
  const image = imageConfig();
  say(
    `image: ${IMAGE} built; runs ${image.main.join(" ")} as ${image.user}; healthcheck ${image.healthcheck.join(" ")}`,
  );
  if (image.user !== `${APP.uid}:${APP.gid}` || image.user !== IMAGE_USER)
    fail(`the image runs as ${image.user}, not ${APP.uid}:${APP.gid}`);

  const runStarted = Date.now();
  spawnSync("buildah", ["--storage-driver", "vfs", "rm", CONTAINER], { stdio: "ignore" });
  buildah(["from", "--pull-never", "--name", CONTAINER, IMAGE], { quiet: true });
  // `buildah run` gives every VOLUME of the image an anonymous volume of its own, kept in the
  // working container and mounted over the -v bind mounts of the same paths: the fresh volumes
  // below would go unseen. Docker mounts the named volume instead; removing the image's VOLUME
  // entries from this container makes buildah do the same.
  buildah(["config", "--volume", "/app/sessions-", "--volume", "/app/data-", CONTAINER], { quiet: true });
  try {
    await smoke(root, image);
  } finally {
    spawnSync("buildah", ["--storage-driver", "vfs", "rm", CONTAINER], { stdio: "ignore" });
    rmSync(root, { recursive: true, force: true });
  }
  timings.push(["run", Date.now() - runStarted]);
  timings.push(["total", Date.now() - started]);
  say(`test:image passed: ${timings.map(([k, ms]) => `${k} ${seconds(ms)}`).join(", ")}`);
}

/** The smoke test's steps, on fresh volumes under `root`. */
async function smoke(root: string, image: { main: string[]; healthcheck: string[] }): Promise<void> {
  const setup = await smokeSetup(root);
  checkConfigInContainer(setup);
  checkRefusals(root, setup);
  await checkUpAndStop(root, image, setup);
  await checkStopMidCleanup(root, image, setup);
}

type SmokeConfig = Record<string, unknown>;

/**
 * The fields of creds.json that are the WhatsApp account (a new QR if any changes). The pre-key
 * counters beside them move as the socket uploads pre-keys, so the file itself may change.
 */
function identity(companyDir: string): string {
  const creds = JSON.parse(readFileSync(path.join(companyDir, "creds.json"), "utf8"));
  const { me, registered, registrationId, noiseKey, signedIdentityKey, advSecretKey } = creds;
  return JSON.stringify({ me, registered, registrationId, noiseKey, signedIdentityKey, advSecretKey });
}

/** What every step shares: the config, the volumes and their mounts, the port, acme's creds. */
interface SmokeSetup {
  port: number;
  config: SmokeConfig;
  sessions: string;
  data: string;
  secrets: string;
  /** acme's WhatsApp identity as generated (creds.json's identity fields). */
  acmeIdentity: string;
  mounts: Mounts;
  /** The `*_FILE` variables compose.yaml sets, naming the files under /run/secrets. */
  env: Record<string, string>;
}

/** Compose's secrets: one value per file, 0400 and owned by uid 1000 (README, "Run in a container"). */
function writeSecrets(dir: string, mode: number): string {
  mkdirSync(dir);
  for (const [name, value] of [
    ["warden_http_token", HTTP_TOKEN],
    ["warden_backup_key", BACKUP_KEY],
  ] as const) {
    const file = path.join(dir, name);
    writeFileSync(file, `${value}\n`, { mode });
    chmodSync(file, mode);
    chownSync(file, APP.uid, APP.gid);
  }
  return dir;
}

/** Writes the config, makes the volumes and a paired company acme. */
async function smokeSetup(root: string): Promise<SmokeSetup> {
  const port = await freePort();
  const configDir = path.join(root, "config");
  mkdirSync(configDir);
  const config = {
    sessionsDir: "/app/sessions",
    driver: "simulated",
    http: { listen: `127.0.0.1:${port}` },
    fleet: { probe: null },
    ladder: { enabled: false },
    preKeyReserve: 0,
    cleanup: { keepPreKeys: 50 },
    workers: {
      instances: 1,
      heartbeatEvery: "1s",
      leaseTtl: "6s",
      deadAfter: "10s",
      controlPollEvery: "200ms",
    },
    simulation: { connectAfter: "50ms" },
  };
  writeFileSync(path.join(configDir, "warden.json"), JSON.stringify(config, null, 2));
  const sessions = volume(path.join(root, "sessions"));
  const data = volume(path.join(root, "data"));
  await createPairedFolder(path.join(sessions, "acme"));
  chownTree(sessions);
  const acmeIdentity = identity(path.join(sessions, "acme"));
  const secrets = writeSecrets(path.join(root, "secrets"), 0o400);
  const mounts: Mounts = {
    "/app/sessions": sessions,
    "/app/data": data,
    "/app/config": `${configDir}:ro`,
    "/run/secrets": `${secrets}:ro`,
  };
  const env = {
    WARDEN_HTTP_TOKEN_FILE: "/run/secrets/warden_http_token",
    WARDEN_BACKUP_KEY_FILE: "/run/secrets/warden_backup_key",
  };
  return { port, config, sessions, data, secrets, acmeIdentity, mounts, env };
}

/** 1. warden config check, as the operator runs it in the container (secrets read as compose gives them). */
function checkConfigInContainer({ mounts, env }: SmokeSetup): void {
  const check = runIn(CONTAINER, ["warden", "config", "check"], mounts, env);
  if (check.status !== 0) fail(`warden config check exited ${check.status}: ${check.stderr}${check.stdout}`);
  say(
    `config check: warden config check exits 0 in the container (${check.stdout.split("\n").length} lines), secrets read through *_FILE`,
  );
}

/** 2. Refusals: a data volume owned by root; a non-loopback listen without the token. */
function checkRefusals(root: string, { mounts, config, env }: SmokeSetup): void {
  const rootOwned = path.join(root, "data-root-owned");
  mkdirSync(rootOwned, { mode: 0o755 });
  const refused = runIn(CONTAINER, ["node", "dist/supervisor/main.js"], {
    ...mounts,
    "/app/data": rootOwned,
  });
  const fatal = refused.stdout.split("\n").filter((l) => l.includes('"level":60'));
  if (
    refused.status !== 78 ||
    fatal.length !== 1 ||
    !fatal[0]?.includes("chown -R 1000:1000 /app/data") ||
    /\n\s+at /.test(refused.stdout + refused.stderr)
  )
    fail(
      `a root-owned data volume: expected exit 78 and one line with the chown fix, got ${refused.status}: ${refused.stdout}${refused.stderr}`,
    );
  say(`volume refusal: exit 78, ${JSON.parse(fatal[0] as string).msg}`);
  const openConfig = path.join(root, "config-open");
  mkdirSync(openConfig);
  writeFileSync(
    path.join(openConfig, "warden.json"),
    JSON.stringify({ ...config, http: { listen: "0.0.0.0:9480" } }),
  );
  const open = runIn(CONTAINER, ["node", "dist/supervisor/main.js"], {
    ...mounts,
    "/app/config": `${openConfig}:ro`,
  });
  if (open.status !== 78 || !open.stdout.includes("WARDEN_HTTP_TOKEN is not set"))
    fail(
      `0.0.0.0 without WARDEN_HTTP_TOKEN: expected exit 78, got ${open.status}: ${open.stdout}${open.stderr}`,
    );
  say("token refusal: listening on 0.0.0.0 without WARDEN_HTTP_TOKEN exits 78");
  const loose = writeSecrets(path.join(root, "secrets-0444"), 0o444);
  const refusedSecret = runIn(
    CONTAINER,
    ["warden", "config", "check"],
    { ...mounts, "/run/secrets": `${loose}:ro` },
    env,
  );
  if (refusedSecret.status !== 78 || !refusedSecret.stderr.includes("chmod 600"))
    fail(
      `a 0444 secret file: expected exit 78 and the chmod fix, got ${refusedSecret.status}: ${refusedSecret.stderr}`,
    );
  say(`secret refusal: a 0444 secret file exits 78 (${refusedSecret.stderr.trim().split("\n")[0]})`);
}

/** 3. Up on fresh volumes: /healthz 200 and the company connected; then SIGTERM to tini. */
async function checkUpAndStop(
  root: string,
  image: { main: string[]; healthcheck: string[] },
  { mounts, env, port, sessions, acmeIdentity }: SmokeSetup,
): Promise<void> {
  const log1 = path.join(root, "run-1.log");
  const up = await startFleet(image, mounts, env, log1, port, ["acme"]);
  say(
    `healthz: GET /healthz answered 200 (image HEALTHCHECK: ${up.health}) ${seconds(up.readyMs)} after start; acme open`,
  );
  await checkSecretsRead(port, log1);
  const stop = await stopFleet(up.child, up.tini, log1);
  const after = states(mounts);
  if (after.get("acme") !== "offline")
    fail(`acme is ${after.get("acme")} after the stop, expected offline`, log1);
  if (identity(path.join(sessions, "acme")) !== acmeIdentity)
    fail("acme's identity in creds.json changed across the stop", log1);
  say(
    `stopped cleanly: SIGTERM to tini -> exit 0 in ${seconds(stop)} (grace ${seconds(GRACE_MS)}); acme offline, its identity in creds.json unchanged`,
  );
}

/** The supervisor read both secrets (0400, uid 1000) through their `*_FILE` variables. */
async function checkSecretsRead(port: number, logFile: string): Promise<void> {
  const api = `http://127.0.0.1:${port}/api/companies`;
  const without = await getStatus(api);
  const withToken = await getStatus(api, { authorization: `Bearer ${HTTP_TOKEN}` });
  if (without !== 401 || withToken !== 200)
    fail(`/api/companies answered ${without} without the token and ${withToken} with it`, logFile);
  const log = readFileSync(logFile, "utf8");
  if (!log.includes("HTTP listening")) fail("the supervisor's log is not in the container's output", logFile);
  if (log.includes('"kind":"backups-unencrypted"'))
    fail("the supervisor did not get WARDEN_BACKUP_KEY from WARDEN_BACKUP_KEY_FILE", logFile);
  say(
    "secrets: 0400 files of uid 1000 in /run/secrets read through *_FILE (/api 401 without the token, 200 with it; backup key set)",
  );
}

/**
 * 4. Redeploy on the same volumes, a `warden cleanup` beside it, SIGTERM to tini at its first
 * deletion. `docker stop` signals PID 1 only: the cleanup (a `docker compose exec`, outside tini's
 * process group) gets no SIGTERM of its own, the fleet does not wait for it, and it is SIGKILLed
 * when tini exits, as the kernel does to a PID namespace whose init has exited. With 100,000 stale
 * files its deletions outlast the fleet's stop, so the kill lands in the middle of them: asserted
 * (some deleted, some still stale: the cleanup run again deletes them), never assumed.
 */
async function checkStopMidCleanup(
  root: string,
  image: { main: string[]; healthcheck: string[] },
  { mounts, env, port, sessions, data, acmeIdentity }: SmokeSetup,
): Promise<void> {
  const big = path.join(sessions, "bigco");
  await makeBigCompany(big);
  chownTree(sessions);
  const log2 = path.join(root, "run-2.log");
  const again = await startFleet(image, mounts, env, log2, port, ["acme", "bigco"]);
  if (identity(path.join(sessions, "acme")) !== acmeIdentity)
    fail("acme came back with another identity after the redeploy", log2);
  say(
    `redeploy: a second container on the same volumes, acme (same identity, no QR) and bigco open in ${seconds(again.readyMs)}`,
  );
  // Taken once bigco is open: its worker's first start tops its pre-keys up, before the cleanup.
  const before = await digest(big);
  const cleanupLog = path.join(root, "cleanup.log");
  const deleting = firstDeletion(big, 180_000);
  const cleanup = startIn(CONTAINER, ["warden", "cleanup", "bigco", "--stop"], mounts, env, cleanupLog);
  if (!(await deleting)) {
    await killContainer(cleanup);
    fail("the cleanup never started deleting", cleanupLog);
  }
  const stop2 = await stopFleet(again.child, again.tini, log2);
  // Processes of the cleanup still there when tini had exited: the container's end kills them.
  const killed = await killContainer(cleanup);
  const now = await digest(big);
  const gone = await checkNoTornNoLost(before, now, data);
  const stale = finishCleanup(mounts, env);
  if (killed === 0 || stale === 0)
    fail(
      `the stop did not land mid-cleanup: the cleanup had already finished (${gone.length} deleted, ${stale} stale left, ${killed} cleanup processes killed at tini's exit)`,
      cleanupLog,
    );
  if (gone.length === 0) fail("the stop landed before the cleanup's first deletion", cleanupLog);
  say(
    `SIGTERM mid-cleanup (sent at its first deletion): fleet stopped cleanly in ${seconds(stop2)} without waiting for the cleanup (grace ${seconds(GRACE_MS)}); the cleanup, killed when tini exited, had deleted ${gone.length} files, ${stale} stale ones still there; ${now.size} files left, 0 torn, 0 lost (every deleted file in an encrypted backup that verifies), creds.json and app-state keys untouched; the cleanup run again finished it (${stale} deleted)`,
  );
}

/**
 * Resolves true at the first stale session gone from `dir` (inotify, no polling; only a cleanup
 * deletes sessions here), false after `timeoutMs`.
 */
function firstDeletion(dir: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const watcher = watch(dir);
    let settled = false;
    const settle = (value: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher.close();
      resolve(value);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    watcher.on("change", (_event, name) => {
      if (typeof name === "string" && name.startsWith("session-") && !existsSync(path.join(dir, name)))
        settle(true);
    });
    watcher.on("error", () => settle(false));
  });
}

/**
 * Every file left is byte for byte as before (none torn), every file gone is in a bigco backup
 * that verifies with the backup key (none lost), creds.json and the app-state keys are there.
 * Returns the names gone.
 */
async function checkNoTornNoLost(
  before: Map<string, string>,
  now: Map<string, string>,
  data: string,
): Promise<string[]> {
  const listed = await listBackups(path.join(data, "backups"), "bigco");
  // Encrypted with the backup key (.enc): the cleanup read it from its secret file too.
  if (!listed.some((b) => b.encrypted))
    fail(`files were deleted but bigco has no encrypted backup (${listed.map((b) => b.name).join(", ")})`);
  const inBackup = new Map<string, string>();
  for (const b of listed) {
    const v = await verifyBackup(b.path, { key: BACKUP_KEY });
    if (v.problems.length > 0) fail(`backup ${b.name} does not verify: ${v.problems.join("; ")}`);
    for (const f of v.manifest?.files ?? []) inBackup.set(f.name, f.sha256);
  }
  for (const [name, sha] of now)
    if (before.get(name) !== sha) fail(`bigco/${name} is torn or new after the stop`);
  const gone = [...before.keys()].filter((n) => !now.has(n));
  for (const name of gone)
    if (inBackup.get(name) !== before.get(name)) fail(`bigco/${name} was deleted without a verified backup`);
  for (const keep of ["creds.json", ...[...before.keys()].filter((n) => n.startsWith("app-state-sync-key-"))])
    if (now.get(keep) !== before.get(keep)) fail(`bigco/${keep} is gone or changed`);
  return gone;
}

/**
 * The killed cleanup run again to its end (fleet stopped, as after a restart): the dead process's
 * hold is released at once, and what it deletes is what the killed one left. Returns that count.
 */
function finishCleanup(mounts: Mounts, env: Record<string, string>): number {
  const again = runIn(CONTAINER, ["warden", "cleanup", "bigco"], mounts, env);
  const count = /bigco: deleted (\d+) files/.exec(again.stdout)?.[1];
  if (again.status !== 0 || count === undefined)
    fail(
      `warden cleanup bigco, run again after the kill, exited ${again.status}: ${again.stdout}${again.stderr}`,
    );
  return Number(count);
}

interface Fleet {
  child: ReturnType<typeof startIn>;
  tini: number;
  readyMs: number;
  health: string;
}

async function startFleet(
  image: { main: string[]; healthcheck: string[] },
  mounts: Mounts,
  env: Record<string, string>,
  logFile: string,
  port: number,
  companies: string[],
): Promise<Fleet> {
  const t = Date.now();
  const child = startIn(CONTAINER, image.main, mounts, env, logFile);
  const tini = await mainProcess(child, path.basename(image.main[0] as string));
  const ok = await poll(
    async () => ((await getStatus(`http://127.0.0.1:${port}/healthz`)) === 200 ? true : undefined),
    120_000,
    500,
  );
  if (!ok) {
    await killContainer(child);
    fail("/healthz never answered 200", logFile);
  }
  const health = runIn(CONTAINER, image.healthcheck, mounts);
  if (health.status !== 0) fail(`the image's HEALTHCHECK exited ${health.status}: ${health.stderr}`, logFile);
  const open = await poll(
    () => {
      const s = states(mounts);
      return companies.every((c) => s.get(c) === "open") ? true : undefined;
    },
    60_000,
    500,
  );
  if (!open) {
    await killContainer(child);
    fail(`not every company of ${companies.join(", ")} connected`, logFile);
  }
  return { child, tini, readyMs: Date.now() - t, health: health.stdout.trim() };
}

/** SIGTERM to the main process (tini); the time it took to exit 0, within the grace period. */
async function stopFleet(child: ReturnType<typeof startIn>, tini: number, logFile: string): Promise<number> {
  const t = Date.now();
  process.kill(tini, "SIGTERM");
  const code = await Promise.race([
    exited(child),
    new Promise<"late">((r) => setTimeout(() => r("late"), GRACE_MS).unref()),
  ]);
  const ms = Date.now() - t;
  if (code === "late") {
    await killContainer(child);
    fail(`still running ${seconds(GRACE_MS)} after SIGTERM (Docker would SIGKILL it now)`, logFile);
  }
  if (code !== 0) fail(`exit ${code} after SIGTERM`, logFile);
  const left = await killContainer(child);
  if (left > 0) fail(`${left} process(es) left after the main process exited`, logFile);
  return ms;
}

await main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
