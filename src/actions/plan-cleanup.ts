/**
 * The cleanup planner: which key files of one company folder may be deleted, and why. Pure (no I/O,
 * no clock) so every rule can be checked by property tests; the caller lists the folder, stops the
 * socket, backs up and deletes. When in doubt it keeps: a file left behind costs a few bytes, a
 * wrong delete can cost a QR rescan.
 *
 * Kept whatever their age:
 * - creds.json, app-state-sync-key-*, app-state-sync-version-*: the identity and the app-state
 *   keys; losing them means a new pairing or a broken app-state sync;
 * - lid-mapping-*: LID <-> phone-number mappings Baileys cannot always rebuild;
 * - device-list-*, tctoken-*, identity-key-*: small, one per contact, needed to address and trust
 *   contacts (a lost identity key shows "security code changed"); they do not pile up the way
 *   pre-keys and sessions do;
 * - anything that is not a Baileys key file ("other"): not ours to judge;
 * - a file whose category does not match its name, whose pre-key id is unknown, or whose name
 *   appears twice: the input is inconsistent, so no rule can be trusted for it.
 */
import { formatDuration } from "../config/duration.js";
import { type Category, classifyFile, preKeyId } from "../fleet/classify-file.js";

/** One regular file of a company folder, as listed (and stat'ed) by the caller. */
export interface CleanupFile {
  name: string;
  category: Category;
  size: number;
  mtimeMs: number;
  /** The id of a `pre-key-<id>.json` file; read from the name when absent. */
  preKeyId?: number;
}

/** The rules in force for one company (durations in ms). */
export interface CleanupRules {
  /** The resolved `preKeyReserve` (pre-keys left out of the count): never delete fewer than these. */
  preKeyReserve: number;
  keepPreKeys: number;
  sessionMaxAgeMs: number;
  senderKeyMaxAgeMs: number;
  minAgeMs: number;
  /** creds.nextPreKeyId - 1 when creds.json could be read: the pre-key Baileys checks on connect. */
  newestPreKeyId?: number | null;
}

/** One file to delete, with the rule that allows it. */
export interface CleanupDeletion {
  file: string;
  category: Category;
  reason: string;
}

/** The plan for one folder; `keepCount` duplicates `keep` for the CLI's JSON contract. */
export interface CleanupPlan {
  delete: CleanupDeletion[];
  keep: number;
  keepCount: number;
  bytesFreed: number;
}

const DAY_MS = 86_400_000;

/** Default ages and pre-key floor: the field notes' thresholds (14d sessions, 3d sender keys, 7d minimum, 50 pre-keys). */
export const DEFAULT_CLEANUP_RULES: Readonly<
  Pick<CleanupRules, "keepPreKeys" | "sessionMaxAgeMs" | "senderKeyMaxAgeMs" | "minAgeMs">
> = Object.freeze({
  keepPreKeys: 50,
  sessionMaxAgeMs: 14 * DAY_MS,
  senderKeyMaxAgeMs: 3 * DAY_MS,
  minAgeMs: 7 * DAY_MS,
});

/** Plans the deletions for one folder's files at `now`; `force` only lowers minAge to 0. */
export function planCleanup(
  files: readonly CleanupFile[],
  rules: CleanupRules,
  now: number,
  options: { force?: boolean } = {},
): CleanupPlan {
  // A listing cannot hold a name twice; if the input does, we cannot tell which entry is true.
  const seen = new Map<string, number>();
  for (const f of files) seen.set(f.name, (seen.get(f.name) ?? 0) + 1);
  const eligible = files.filter((f) => seen.get(f.name) === 1 && classifyFile(f.name) === f.category);

  const preKeyRank = rankPreKeys(eligible);
  // A NaN count would make every `rank < count` false and protect nothing: treat it as "keep all".
  const keepNewest = Math.max(floorCount(rules.preKeyReserve), floorCount(rules.keepPreKeys));
  const newestPresent = preKeyRank.maxId;
  const credsNewest = rules.newestPreKeyId ?? null;
  const minAgeMs = options.force === true ? 0 : rules.minAgeMs;

  const deletions: CleanupDeletion[] = [];
  for (const f of eligible) {
    const age = now - f.mtimeMs;
    // `age >= minAge` is false for NaN and for files dated in the future (clock skew), even with force.
    if (!(age >= minAgeMs)) continue;
    let reason: string | undefined;
    switch (f.category) {
      case "pre-key": {
        const ranked = preKeyRank.byName.get(f.name);
        if (ranked === undefined) break; // id unknown or contradicting the name: cannot rank it
        const { id, rank } = ranked;
        if (rank < keepNewest) break;
        if (id === newestPresent) break;
        // Baileys checks `nextPreKeyId - 1` on every connect and re-uploads when it is missing
        // (Baileys#2797); ids above it were written but not yet recorded in creds, so keep those too.
        if (credsNewest !== null && id >= credsNewest) break;
        reason = `pre-key ${id} is older than the newest ${keepNewest} kept (#${rank + 1} by id, highest ${newestPresent})`;
        break;
      }
      case "session":
        if (age > rules.sessionMaxAgeMs) reason = untouched("session", age, rules.sessionMaxAgeMs);
        break;
      case "sender-key":
      case "sender-key-memory":
        // Group sender keys are re-distributed by Baileys when missing; memory only records who got them.
        if (age > rules.senderKeyMaxAgeMs) reason = untouched(f.category, age, rules.senderKeyMaxAgeMs);
        break;
      default:
        break;
    }
    if (reason === undefined) continue;
    if (age < rules.minAgeMs) {
      // Say so: the operator asked to override the one rule that protects files in use.
      reason += `; ${formatDuration(age)} old < minAge ${formatDuration(rules.minAgeMs)} (force)`;
    }
    deletions.push({ file: f.name, category: f.category, reason });
  }

  // Code-unit order, not localeCompare: the same plan whatever the machine's locale.
  deletions.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const sizes = new Map(eligible.map((f) => [f.name, f.size]));
  let bytesFreed = 0;
  for (const d of deletions) bytesFreed += sizes.get(d.file) ?? 0;
  const keep = files.length - deletions.length;
  return { delete: deletions, keep, keepCount: keep, bytesFreed };
}

/** Pre-key ranks by id: rank = how many rankable pre-keys have a strictly higher id (ties share a rank). */
function rankPreKeys(files: readonly CleanupFile[]): {
  byName: Map<string, { id: number; rank: number }>;
  maxId: number | null;
} {
  const ranked: { name: string; id: number }[] = [];
  for (const f of files) {
    if (f.category !== "pre-key") continue;
    const fromName = preKeyId(f.name);
    const id = f.preKeyId ?? fromName;
    // Baileys looks a pre-key up by its file name, so a given id that disagrees with it is not trusted.
    if (id === undefined || fromName === undefined || id !== fromName) continue;
    ranked.push({ name: f.name, id });
  }
  ranked.sort((a, b) => b.id - a.id);
  const byName = new Map<string, { id: number; rank: number }>();
  let rank = 0;
  ranked.forEach((r, i) => {
    if (i > 0 && r.id !== ranked[i - 1]?.id) rank = i;
    byName.set(r.name, { id: r.id, rank });
  });
  return { byName, maxId: ranked[0]?.id ?? null };
}

/** A count from the rules: NaN means "unknown", which keeps everything. */
function floorCount(n: number): number {
  return Number.isNaN(n) ? Number.POSITIVE_INFINITY : Math.max(0, n);
}

/** "session untouched for 21d (> 14d)". */
function untouched(what: string, age: number, max: number): string {
  return `${what} untouched for ${formatDuration(age)} (> ${formatDuration(max)})`;
}
