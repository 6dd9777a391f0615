/**
 * What a folder's files mean under Baileys v7: every file is *live* (Baileys still needs it) or *stale*
 * (the smart cleanup would delete it now). By default the thresholds apply to the stale files, so a
 * level means "a cleanup will bring this down" and a business's number of contacts alone never
 * raises one. `count.basis` "counted" keeps the older rule (every file but the newest preKeyReserve
 * pre-keys), "total" is `ls | wc -l`. Pure: the scanner has already stat'ed what the rules need.
 */
import type { CompanySettings } from "../../config/schema.js";
import { classifyFile } from "../../fleet/classify-file.js";
import { type CountBasis, countedFiles } from "../../fleet/count-files.js";
import { resolveKeepPreKeys, resolvePreKeyReserve } from "../../fleet/prekey-reserve.js";
import { AGE_RULED_CATEGORIES, type FolderSnapshot } from "../../fleet/scan-folder.js";
import { type DownInterval, withoutDownTime } from "./down-time.js";
import { type CleanupFile, type CleanupRules, planCleanup, youngestDeletableAge } from "./plan-cleanup.js";

/** A folder's files, judged. `counted` is the number the thresholds apply to (per `basis`). */
export interface FileCounts {
  total: number;
  counted: number;
  basis: CountBasis;
  /** Files the smart cleanup would delete now. */
  stale: number;
  /** total - stale. */
  live: number;
  /** Newest pre-keys left out of basis "counted" (shown as the reserve; part of the live files). */
  reserve: number;
  /** Files a rule would delete but cleanup.minAge keeps for now, and when the first one may go. */
  heldByMinAge: number;
  heldUntil: number | null;
}

/** The planner's rules for a company and what its creds.json says. */
export function cleanupRulesFor(
  settings: Pick<CompanySettings, "cleanup">,
  creds: { newestPreKeyId: number | null; ownUsers: readonly string[] | null },
): CleanupRules {
  return {
    keepPreKeys: resolveKeepPreKeys(settings.cleanup.keepPreKeys),
    sessionMaxAgeMs: settings.cleanup.sessionMaxAge,
    senderKeyMaxAgeMs: settings.cleanup.senderKeyMaxAge,
    foreignSenderKeyMaxAgeMs: settings.cleanup.foreignSenderKeyMaxAge,
    minAgeMs: settings.cleanup.minAge,
    newestPreKeyId: creds.newestPreKeyId,
    ownUsers: creds.ownUsers,
  };
}

/** Live / stale / reserve and the thresholds' number for one snapshot at `now`. */
export function countSnapshot(
  snapshot: Pick<
    FolderSnapshot,
    "total" | "preKeys" | "names" | "categories" | "mtimes" | "ownUsers" | "newestPreKeyId"
  >,
  settings: Pick<CompanySettings, "cleanup" | "preKeyReserve" | "count">,
  now: number,
  /** When the company was down (down-time.ts): not counted as idleness. */
  down: readonly DownInterval[] = [],
): FileCounts {
  const rules = cleanupRulesFor(settings, snapshot);
  // Only what a rule can delete goes to the planner (the rest of a v7 folder is live by category);
  // pre-keys only when there are more than the floor, since they are ranked among themselves.
  const withPreKeys = snapshot.preKeys > rules.keepPreKeys;
  // An age-ruled file no older than the youngest rule age is kept by every rule, and moving its
  // mtime past down time only makes it younger: the planner would keep it, so it is not passed.
  // Most of a healthy folder is such files. Pre-keys always are (they are ranked among themselves).
  const youngest = youngestDeletableAge(rules);
  const files = withPreKeys
    ? judgedWithPreKeys(snapshot, youngest, now)
    : oldAgeRuled(snapshot, youngest, now);
  const plan = planCleanup(withoutDownTime(files, down, now), rules, now);
  const stale = plan.delete.length;
  const reserveSetting = resolvePreKeyReserve(settings.preKeyReserve);
  const reserve = Math.min(Math.max(0, reserveSetting), snapshot.preKeys);
  const basis = settings.count.basis;
  const counted =
    basis === "stale" ? stale : basis === "total" ? snapshot.total : countedFiles(snapshot, reserveSetting);
  return {
    total: snapshot.total,
    counted,
    basis,
    stale,
    live: snapshot.total - stale,
    reserve,
    heldByMinAge: plan.heldByMinAge,
    heldUntil: plan.heldUntil,
  };
}

/** Every pre-key (NaN when not stat'ed, which the planner keeps) and the age-ruled files past `youngest`. */
function judgedWithPreKeys(
  snapshot: Pick<FolderSnapshot, "names" | "categories" | "mtimes">,
  youngest: number,
  now: number,
): CleanupFile[] {
  const files: CleanupFile[] = [];
  const { names, categories } = snapshot;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const category = categories?.[i] ?? classifyFile(name);
    const ageRuled = AGE_RULED_CATEGORIES.has(category);
    if (!ageRuled && category !== "pre-key") continue;
    const mtimeMs = snapshot.mtimes.get(name) ?? Number.NaN;
    if (ageRuled && now - mtimeMs <= youngest) continue;
    files.push({ name, category, size: 0, mtimeMs });
  }
  return files;
}

/**
 * The age-ruled files past `youngest`, from the stat'ed ones only (the mtimes hold names of the
 * snapshot; an age-ruled file without an mtime is one the planner keeps). Most files are younger,
 * so they are left out before their name is classified.
 */
function oldAgeRuled(snapshot: Pick<FolderSnapshot, "mtimes">, youngest: number, now: number): CleanupFile[] {
  const files: CleanupFile[] = [];
  for (const [name, mtimeMs] of snapshot.mtimes) {
    if (now - mtimeMs <= youngest) continue;
    const category = classifyFile(name);
    if (AGE_RULED_CATEGORIES.has(category)) files.push({ name, category, size: 0, mtimeMs });
  }
  return files;
}
