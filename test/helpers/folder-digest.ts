/** "What is in this folder": name → sha256 of every regular file, to compare a folder before and after. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { setImmediate } from "node:timers/promises";

/** sha256 of some bytes, hex. */
export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** name → sha256 of every regular file in a folder (symlinks and sub-folders left out). */
export function digestSync(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) out.set(e.name, sha256(readFileSync(path.join(dir, e.name))));
  }
  return out;
}

// Files hashed between two event-loop turns (~1 ms of sync I/O): while the crash trials hash 1,500
// files in one lane, the other lane's kill timer still fires on time.
const BATCH = 32;

/** digestSync that yields to the event loop every few files (for folders of thousands of files). */
export async function digest(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isFile()) continue;
    out.set(e.name, sha256(readFileSync(path.join(dir, e.name))));
    if (++n % BATCH === 0) await setImmediate();
  }
  return out;
}

/** Two digests with the same names and hashes. */
export function sameDigest(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([name, sha]) => b.get(name) === sha);
}
