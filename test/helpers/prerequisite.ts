/**
 * What a test needs from the machine (a Chromium, the right to mount a tmpfs, openssl) and what
 * happens when it is missing: under `CI=true` the test FAILS with what is missing and the fix, so
 * a CI image without the prerequisite cannot pass by skipping; elsewhere (a developer's laptop)
 * the test is skipped with the same sentence printed and shown as the skip's note. Never silent.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { onTestFinished, type TestContext } from "vitest";

/** A prerequisite that is missing: what, and the command or setting that provides it. */
export interface Missing {
  what: string;
  fix: string;
}

/** The sentence a missing prerequisite fails (CI) or skips (elsewhere) with. */
export function missingMessage(m: Missing): string {
  return `missing prerequisite: ${m.what}. Fix: ${m.fix}`;
}

/**
 * Returns when nothing is missing. Otherwise throws under `CI=true` (the test fails), and skips
 * the running test with the reason printed elsewhere.
 */
export function requirePrerequisite(ctx: TestContext, missing: Missing | null): void {
  if (missing === null) return;
  const message = missingMessage(missing);
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: a missing prerequisite fails)`);
  console.warn(`SKIPPED "${ctx.task.name}": ${message}`);
  ctx.skip(message);
}

/** The Chromium playwright-core drives: `CHROMIUM_PATH`, else Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Null when the Chromium at {@link CHROMIUM} exists. */
export function chromiumMissing(): Missing | null {
  return existsSync(CHROMIUM)
    ? null
    : {
        what: `no Chromium at ${CHROMIUM}`,
        fix: "apt-get install -y chromium, or set CHROMIUM_PATH to a Chromium binary",
      };
}

/** Null when `command` runs (`command -v` finds it). */
export function commandMissing(command: string, aptPackage: string): Missing | null {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return null;
  } catch {
    return { what: `no \`${command}\` on PATH`, fix: `apt-get install -y ${aptPackage}` };
  }
}

/**
 * Mounts a tmpfs of `size` (e.g. "3m") on the existing folder `dir`; requires the prerequisite
 * (mounting needs root, or CAP_SYS_ADMIN in a container). Unmounted by `onCleanup` (by default once
 * the running test finished): pass the test's own cleanup list when it removes a folder holding the
 * mount point, so the unmount comes first (removing a mount point fails with EBUSY).
 */
export function mountTmpfs(
  ctx: TestContext,
  dir: string,
  size: string,
  onCleanup: (fn: () => void) => void = onTestFinished,
): void {
  let missing: Missing | null = null;
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
    missing = {
      what: `cannot mount a tmpfs on ${dir} (${stderr || (err as Error).message})`,
      fix: "run the tests as root (the test image does), or in a container with --cap-add SYS_ADMIN",
    };
  }
  requirePrerequisite(ctx, missing);
  // Lazy: a store or a watcher being closed may still hold files open on it.
  onCleanup(() => execFileSync("umount", ["-l", dir], { stdio: "ignore" }));
}
