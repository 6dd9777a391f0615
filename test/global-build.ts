/**
 * vitest globalSetup: compiles src once with tsc before the suite and brings dist/ up to date with
 * it (as `npm run build`, see syncInto), so the child processes the tests start (CLI, supervisor,
 * worker: helpers/entry.ts) run plain JS instead of each loading tsx and transforming every module
 * again (on a loaded 2-core machine, about a second per process), and the pm2 tests
 * (ecosystem.config.cjs runs dist/) do not each rebuild dist/ while other test files run from it.
 * WARDEN_TEST_TSX=1 runs src through tsx.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The folder of the compiled src (`dist`: `<dir>/cli/main.js`...), or "" to run src through tsx. */
    wardenBuild: string;
  }
}

const repo = path.resolve(import.meta.dirname, "..");

export default function setup(project: TestProject): void {
  const dist = path.join(repo, "dist");
  // Beside dist/, at its depth: the source maps' relative paths to src come out the same.
  const outDir = path.join(repo, `.dist-test-${process.pid}`);
  try {
    compile(outDir);
    const changed = syncInto(outDir, dist);
    if (changed > 0) console.log(`test/global-build.ts: ${changed} file(s) of dist/ updated from src`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  project.provide("wardenBuild", process.env.WARDEN_TEST_TSX === "1" ? "" : dist);
}

function compile(outDir: string): void {
  const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", outDir], {
      cwd: repo,
      stdio: "pipe",
      encoding: "utf8",
    });
  } catch (err) {
    // Type errors still emit JS (npm run typecheck is where they fail); a missing output is fatal.
    const out = String((err as { stdout?: string }).stdout ?? "");
    if (!existsSync(path.join(outDir, "cli", "main.js")))
      throw new Error(`test/global-build.ts: tsc produced no cli/main.js:\n${out}`);
    console.warn(`test/global-build.ts: tsc reported errors, running its output anyway:\n${out}`);
  }
}

/**
 * Copies into `dist` the files whose content differs, each by an atomic rename: another suite
 * running from the same dist/ (or a pm2 app started from it) never reads a half-written file, and
 * an unchanged build writes nothing. Returns how many files changed.
 */
function syncInto(from: string, dist: string): number {
  let changed = 0;
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const source = path.join(entry.parentPath, entry.name);
    const target = path.join(dist, path.relative(from, source));
    const content = readFileSync(source);
    if (existsSync(target) && readFileSync(target).equals(content)) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, content);
    renameSync(temp, target);
    changed++;
  }
  return changed;
}
