/**
 * How a test starts one of the product's entry points as a child process: the JS compiled once
 * by test/global-build.ts, or the TypeScript through tsx when there is no build (WARDEN_TEST_TSX=1).
 */
import path from "node:path";
import { inject } from "vitest";

const repo = path.resolve(import.meta.dirname, "..", "..");

/** The node arguments that run `source` (e.g. "src/cli/main.ts", relative to the repo). */
export function entryArgs(source: `src/${string}.ts`): string[] {
  const build = inject("wardenBuild");
  if (!build) return ["--import", "tsx", path.join(repo, source)];
  return [path.join(build, source.slice("src/".length).replace(/\.ts$/, ".js"))];
}
