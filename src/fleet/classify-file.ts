/**
 * Categories of the files Baileys' useMultiFileAuthState writes: `${type}-${id}.json` after
 * fixFileName (`/` -> `__`, `:` -> `-`), plus creds.json.
 */
import { CATEGORIES, type Category, type CategoryCounts } from "../store/snapshot-types.js";

/** Prefix of the worker's atomic-write temp files: transient, never counted. */
export const ATOMIC_TMP_PREFIX = ".warden-tmp-";

export { CATEGORIES, type Category, type CategoryCounts } from "../store/snapshot-types.js";

// The two commonest first (they share no prefix with the others); then longest prefixes first:
// "sender-key-memory-" must win over "sender-key-".
const PREFIXES: readonly (readonly [string, Category])[] = [
  ["pre-key-", "pre-key"],
  ["session-", "session"],
  ["app-state-sync-version-", "app-state-sync-version"],
  ["app-state-sync-key-", "app-state-sync-key"],
  ["sender-key-memory-", "sender-key-memory"],
  ["identity-key-", "identity-key"],
  ["lid-mapping-", "lid-mapping"],
  ["device-list-", "device-list"],
  ["sender-key-", "sender-key"],
  ["tctoken-", "tctoken"],
];

/** The category of a file name in a company folder. */
export function classifyFile(name: string): Category {
  if (name === "creds.json") return "creds";
  if (!name.endsWith(".json")) return "other";
  for (const [prefix, category] of PREFIXES) if (name.startsWith(prefix)) return category;
  return "other";
}

/** The numeric id of a `pre-key-<id>.json` file, or undefined for any other name. */
export function preKeyId(name: string): number | undefined {
  if (!name.startsWith("pre-key-") || !name.endsWith(".json")) return undefined;
  const digits = name.slice("pre-key-".length, -".json".length);
  if (!/^\d{1,10}$/.test(digits)) return undefined;
  return Number(digits);
}

/** A zeroed count for every category. */
export function emptyCounts(): CategoryCounts {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as CategoryCounts;
}

/** True for the files kept as creds snapshots (worker/creds-snapshots): creds.json and app-state-sync-key-*.json. */
export function isSnapshotFile(name: string): boolean {
  const category = classifyFile(name);
  return category === "creds" || category === "app-state-sync-key";
}
