/**
 * Categories of the files Baileys' useMultiFileAuthState writes: `${type}-${id}.json` after
 * fixFileName (`/` -> `__`, `:` -> `-`), plus creds.json.
 */
import { CATEGORIES, type Category, type CategoryCounts } from "../store/snapshot-types.js";

/** Prefix of the worker's atomic-write temp files: transient, never counted. */
export const ATOMIC_TMP_PREFIX = ".warden-tmp-";

export { CATEGORIES, type Category, type CategoryCounts } from "../store/snapshot-types.js";

/** The category of a file name in a company folder. */
export function classifyFile(name: string): Category {
  if (name === "creds.json") return "creds";
  if (!name.endsWith(".json")) return "other";
  // By first letter, then prefix: this runs for every file at every scan. "sender-key-memory-"
  // must win over "sender-key-", and "app-state-sync-version-" is tried before "...-key-".
  switch (name.charCodeAt(0)) {
    case 112: // p
      return name.startsWith("pre-key-") ? "pre-key" : "other";
    case 115: // s
      if (name.startsWith("session-")) return "session";
      if (name.startsWith("sender-key-memory-")) return "sender-key-memory";
      return name.startsWith("sender-key-") ? "sender-key" : "other";
    case 97: // a
      if (name.startsWith("app-state-sync-version-")) return "app-state-sync-version";
      return name.startsWith("app-state-sync-key-") ? "app-state-sync-key" : "other";
    case 105: // i
      return name.startsWith("identity-key-") ? "identity-key" : "other";
    case 108: // l
      return name.startsWith("lid-mapping-") ? "lid-mapping" : "other";
    case 100: // d
      return name.startsWith("device-list-") ? "device-list" : "other";
    case 116: // t
      return name.startsWith("tctoken-") ? "tctoken" : "other";
    default:
      return "other";
  }
}

/** The numeric id of a `pre-key-<id>.json` file, or undefined for any other name. */
export function preKeyId(name: string): number | undefined {
  if (!name.startsWith("pre-key-") || !name.endsWith(".json")) return undefined;
  // 1 to 10 ASCII digits between the two: a loop, as it runs for every pre-key at every count.
  const end = name.length - ".json".length;
  const start = "pre-key-".length;
  if (end <= start || end - start > 10) return undefined;
  let id = 0;
  for (let i = start; i < end; i++) {
    const digit = name.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    id = id * 10 + digit;
  }
  return id;
}

/** A zeroed count for every category. */
export function emptyCounts(): CategoryCounts {
  const counts = {} as CategoryCounts;
  for (const category of CATEGORIES) counts[category] = 0;
  return counts;
}

/** True for the files kept as creds snapshots (worker/creds-snapshots): creds.json and app-state-sync-key-*.json. */
export function isSnapshotFile(name: string): boolean {
  const category = classifyFile(name);
  return category === "creds" || category === "app-state-sync-key";
}
