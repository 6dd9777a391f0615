/** Fresh temp folders for tests, removed when the test that made them finishes. */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";

/** Registers cleanup for the running test (concurrent tests must pass their context's own). */
export type OnFinished = (fn: () => void) => void;

/**
 * A new folder under the OS temp dir (`<prefix>XXXXXX`), removed with everything in it once the
 * running test finished (after its afterEach hooks, so watchers are closed first).
 */
export function tempDir(onFinished: OnFinished = onTestFinished, prefix = "warden-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
