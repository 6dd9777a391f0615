/**
 * vitest globalSetup: compiles src once with tsc into dist/ before the suite (`npm run build`), so
 * the child processes the tests start (CLI, supervisor, worker: helpers/entry.ts) run plain JS
 * instead of each loading tsx and transforming every module again (on a loaded 2-core machine,
 * about a second per process), and the pm2 tests (ecosystem.config.cjs runs dist/) do not each
 * rebuild dist/ while other test files run from it. WARDEN_TEST_TSX=1 runs src through tsx.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
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
  const outDir = path.join(repo, "dist");
  const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: repo,
      stdio: "pipe",
      encoding: "utf8",
    });
  } catch (err) {
    // Type errors still emit JS (npm run typecheck is where they fail); a missing output is fatal.
    const out = String((err as { stdout?: string }).stdout ?? "");
    if (!existsSync(path.join(outDir, "cli", "main.js")))
      throw new Error(`test/global-build.ts: tsc produced no ${outDir}/cli/main.js:\n${out}`);
    console.warn(`test/global-build.ts: tsc reported errors, running its output anyway:\n${out}`);
  }
  project.provide("wardenBuild", process.env.WARDEN_TEST_TSX === "1" ? "" : outDir);
}
