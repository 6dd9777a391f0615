/**
 * The test log is quiet by default and no private key reaches output. The noisy paths run for real
 * in child processes (libsignal's session dump with its ratchet private key, Bad MAC stacks, many
 * paced alert sends on one signal): once as a child vitest under the project's config (its console
 * filter is the test log's guard) and once as a child node process with the worker's console guard
 * (src/signals/console-guard.ts). Each is also run with its guard off, which must show the noise:
 * so the check itself is known to see what it looks for.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fixturePrivateKeys } from "./fixtures/quiet-log/noisy-paths.js";
import { tempDir } from "./helpers/temp-dir.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const FIXTURE_DIR = path.join(repoRoot, "test/fixtures/quiet-log");
const run = promisify(execFile);
/** Child processes compile the fixture with tsx: give them room on a loaded machine. */
const SLOW = { timeout: 240_000 };
const NOISE = [
  "Closing session",
  "SessionEntry",
  "privKey",
  "Session error",
  "Bad MAC",
  "Failed to decrypt message",
  "MaxListenersExceededWarning",
];

/** Every private key that could have been printed: the fixture creds' and every session file's. */
function privateKeys(root: string): Buffer[] {
  const keys = fixturePrivateKeys();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (name.startsWith("session-"))
        for (const [, b64] of readFileSync(file, "utf8").matchAll(/"privKey":"([^"]+)"/g))
          keys.push(Buffer.from(b64 as string, "base64"));
    }
  };
  walk(root);
  return keys;
}

/** The ways a key's bytes can be printed: base64, hex, a Buffer's inspect, a Buffer's JSON. */
function keyForms(key: Buffer): string[] {
  const head = key.subarray(0, 8);
  return [
    key.toString("base64").slice(0, 16),
    key.toString("hex").slice(0, 16),
    [...head].map((b) => b.toString(16).padStart(2, "0")).join(" "),
    [...head].join(","),
  ];
}

/** What of the noise and of the keys is in `output`. */
function leaks(output: string, root: string): string[] {
  const found = NOISE.filter((n) => output.includes(n));
  const keys = privateKeys(root);
  expect(keys.length).toBeGreaterThan(3); // the creds' and the sessions' keys were found
  for (const key of keys)
    for (const form of keyForms(key)) if (output.includes(form)) found.push(`key ${form}`);
  return found;
}

const childEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
  delete env.WARDEN_TEST_VERBOSE;
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
};

async function childVitest(root: string, verbose: boolean): Promise<string> {
  const { stdout, stderr } = await run(
    "npx",
    ["vitest", "run", "--config", path.join(FIXTURE_DIR, "vitest.config.ts"), "--root", repoRoot],
    {
      cwd: repoRoot,
      env: childEnv({ WARDEN_QUIET_ROOT: root, ...(verbose ? { WARDEN_TEST_VERBOSE: "1" } : {}) }),
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const output = stdout + stderr;
  expect(output).toContain("1 passed");
  return output;
}

async function childWorker(root: string, mode: "guarded" | "raw"): Promise<string> {
  const { stdout, stderr } = await run(
    process.execPath,
    ["--import", "tsx", path.join(FIXTURE_DIR, "guarded-worker.ts"), root, mode],
    { cwd: repoRoot, env: childEnv({}), maxBuffer: 16 * 1024 * 1024 },
  );
  expect(stdout).toContain('"done":true');
  return stdout + stderr;
}

describe("the test log under the project's vitest config", () => {
  it("is quiet: no libsignal dump, no Bad MAC stack, no listener warning, no private key", SLOW, async () => {
    const root = tempDir();
    const output = await childVitest(root, false);
    expect(leaks(output, root)).toEqual([]);
  });

  it(
    "with the filter off (WARDEN_TEST_VERBOSE=1) the same run prints the dump and its private key",
    SLOW,
    async () => {
      const root = tempDir();
      const found = leaks(await childVitest(root, true), root);
      expect(found).toContain("Closing session");
      expect(found).toContain("Session error");
      expect(found.some((f) => f.startsWith("key "))).toBe(true);
    },
  );
});

describe("a worker process with its console guard", () => {
  it("prints nothing of the noisy paths, in a company's scope or outside any", SLOW, async () => {
    const root = tempDir();
    const output = await childWorker(root, "guarded");
    expect(leaks(output, root)).toEqual([]);
    const summary = JSON.parse(output.trim().split("\n").at(-1) as string) as { unscoped: number };
    expect(summary.unscoped).toBeGreaterThan(0);
  });

  it("without the guard the same process prints the dump and its private key", SLOW, async () => {
    const root = tempDir();
    const found = leaks(await childWorker(root, "raw"), root);
    expect(found).toContain("privKey");
    expect(found.some((f) => f.startsWith("key "))).toBe(true);
  });
});
