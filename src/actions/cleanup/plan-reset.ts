/**
 * The last-resort reset plan, pure: what the ladder deletes when the key state is broken (invariant 13).
 * It must leave a folder Baileys keeps working with, so per category:
 * - kept: creds.json and app-state (identity and sync), lid-mapping (PN <-> LID, used to address
 *   contacts), device-list (PN -> LID migration), tctoken (a 1:1 send without one can be refused
 *   with 463 and is not retried), pre-keys within the `keepPreKeys` floor, the newest id and creds'
 *   `nextPreKeyId - 1` and above (WhatsApp still hands them out; a missing one fails the next new
 *   contact's first message with `Invalid PreKey ID`), anything that is not a Baileys key file, and
 *   every file of our own user (a failed message from our own phone is never retried);
 * - deleted, whatever their age: sessions and identity keys (rebuilt from the contact's bundle;
 *   Baileys trusts every identity), sender keys and sender-key memory (ours is re-sent, others'
 *   come back through retries), pre-keys below the floor.
 */
import { type Category, classifyFile, preKeyId } from "../../fleet/classify-file.js";
import { fileUser } from "../../fleet/file-user.js";
import type { CleanupDeletion, CleanupFile, CleanupPlan } from "./plan-cleanup.js";

/** Categories a reset deletes (pre-keys only below the floor). */
export const RESET_DELETES: ReadonlySet<Category> = new Set([
  "session",
  "identity-key",
  "sender-key",
  "sender-key-memory",
]);

/** What the reset needs to know about the folder. */
export interface ResetRules {
  /** The resolved `cleanup.keepPreKeys`. */
  keepPreKeys: number;
  /** creds.nextPreKeyId - 1 (null: unknown). */
  newestPreKeyId?: number | null;
  /** User parts of creds.me.id / creds.me.lid (null: unknown, then every session goes: the state is broken). */
  ownUsers?: readonly string[] | null;
}

/** Plans a reset of one folder's files. */
export function planReset(files: readonly CleanupFile[], rules: ResetRules): CleanupPlan {
  const own = new Set(rules.ownUsers ?? []);
  const ids = files
    .map((f) =>
      f.category === "pre-key" && classifyFile(f.name) === "pre-key" ? preKeyId(f.name) : undefined,
    )
    .filter((id): id is number => id !== undefined)
    .sort((a, b) => b - a);
  const floor = Number.isNaN(rules.keepPreKeys) ? Number.POSITIVE_INFINITY : Math.max(1, rules.keepPreKeys);
  // Ids at or above this one are within the floor (ties kept).
  const lowestKept = ids.length === 0 ? 0 : (ids[Math.min(ids.length, floor) - 1] ?? 0);
  const credsNewest = rules.newestPreKeyId ?? null;
  const deletions: CleanupDeletion[] = [];
  for (const f of files) {
    const category = classifyFile(f.name);
    if (category !== f.category) continue; // inconsistent input: keep
    if (category === "pre-key") {
      const id = preKeyId(f.name);
      if (id === undefined || id >= lowestKept) continue;
      if (credsNewest !== null && id >= credsNewest) continue;
      deletions.push({
        file: f.name,
        category,
        reason: `reset: pre-key ${id} below the newest ${floor} kept`,
      });
      continue;
    }
    if (!RESET_DELETES.has(category)) continue;
    // Our own sessions and identity keys stay (our own sender key is re-sent by Baileys: it goes).
    const user = category === "session" || category === "identity-key" ? fileUser(f.name) : undefined;
    if (user !== undefined && own.has(user)) continue;
    deletions.push({ file: f.name, category, reason: `reset: ${category} (rebuilt by Baileys)` });
  }
  deletions.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const deleted = new Set(deletions.map((d) => d.file));
  const bytesFreed = files.reduce((sum, f) => sum + (deleted.has(f.name) ? f.size : 0), 0);
  const keep = files.length - deletions.length;
  return { delete: deletions, keep, keepCount: keep, bytesFreed, heldByMinAge: 0, heldUntil: null };
}
