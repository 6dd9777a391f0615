/**
 * The cleanup planner: which key files of one company folder may be deleted, and why. Pure (no I/O,
 * no clock) so every rule can be checked by property tests; the caller lists the folder, stops the
 * socket, backs up and deletes. When in doubt it keeps: a file left behind costs a few bytes, a
 * wrong delete can cost a QR rescan. What it would delete is also what wa-warden counts as *stale*
 * (the v7 counting rule): a level on the stale files means "a cleanup will bring this down".
 *
 * Deleted (each only once older than minAge, unless forced):
 * - pre-keys below the newest `keepPreKeys` (812 = Baileys v7's INITIAL_PREKEY_COUNT by default):
 *   WhatsApp may hand out any pre-key still on disk (libsignal deletes used ones), and a deleted
 *   one fails the next new contact's first message with `Invalid PreKey ID`; never the newest id,
 *   never creds' `nextPreKeyId - 1` or above (Baileys re-uploads when that one is missing);
 * - sessions untouched for sessionMaxAge (the contact's next message needs a retry round trip);
 * - our own sender keys and sender-key-memory after senderKeyMaxAge (Baileys re-sends our own key),
 *   other members' sender keys after foreignSenderKeyMaxAge (theirs is not re-sent: their next
 *   group message fails once and is retried);
 * - tctokens untouched past their ~28-day expiry (Baileys drops expired ones itself).
 * Kept whatever their age:
 * - creds.json, app-state-sync-key-*, app-state-sync-version-*: the identity and the app-state
 *   keys; losing them means a new pairing or a broken app-state sync;
 * - lid-mapping-*, device-list-*, identity-key-*: one per contact, still used (PN -> LID migration,
 *   addressing); they are live files, not a pile-up;
 * - every session, identity key, device list, sender key and tctoken of our own user (user part
 *   of creds.me.id / creds.me.lid): a failed message from our own phone is never retried, so
 *   app-state key shares could be lost; when our user is unknown, every session is kept;
 * - anything that is not a Baileys key file ("other"): not ours to judge;
 * - a file whose category does not match its name, whose pre-key id is unknown, or whose name
 *   appears twice: the input is inconsistent, so no rule can be trusted for it.
 */
import { formatDuration } from "../../config/duration.js";
import { type Category, classifyFile, preKeyId } from "../../fleet/classify-file.js";
import { fileUser } from "../../fleet/file-user.js";

/** One regular file of a company folder, as listed (and stat'ed) by the caller. */
export interface CleanupFile {
  name: string;
  category: Category;
  size: number;
  /** NaN when not stat'ed (the file is then never deleted: its age is unknown). */
  mtimeMs: number;
  /** The id of a `pre-key-<id>.json` file; read from the name when absent. */
  preKeyId?: number;
}

/** The rules in force for one company (durations in ms). */
export interface CleanupRules {
  /** Newest pre-keys always kept (the resolved `cleanup.keepPreKeys`; independent of counting). */
  keepPreKeys: number;
  sessionMaxAgeMs: number;
  /** Our own sender keys (and sender-key-memory). */
  senderKeyMaxAgeMs: number;
  /** Other members' sender keys. */
  foreignSenderKeyMaxAgeMs: number;
  minAgeMs: number;
  /** creds.nextPreKeyId - 1 when creds.json could be read: the pre-key Baileys checks on connect. */
  newestPreKeyId?: number | null;
  /** User parts of creds.me.id / creds.me.lid; null or absent when creds.json could not be read. */
  ownUsers?: readonly string[] | null;
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
  /** Files a rule would delete but minAge keeps for now (0 with force). */
  heldByMinAge: number;
  /** When the first of those becomes deletable (null: none held). */
  heldUntil: number | null;
}

const DAY_MS = 86_400_000;

/** How long a tctoken lives: Baileys drops tokens older than ~28 days itself. */
export const TCTOKEN_MAX_AGE_MS = 28 * DAY_MS;

/** Default ages and pre-key floor (812 = Baileys v7's INITIAL_PREKEY_COUNT, what "auto" resolves to). */
export const DEFAULT_CLEANUP_RULES: Readonly<
  Pick<
    CleanupRules,
    "keepPreKeys" | "sessionMaxAgeMs" | "senderKeyMaxAgeMs" | "foreignSenderKeyMaxAgeMs" | "minAgeMs"
  >
> = Object.freeze({
  keepPreKeys: 812,
  sessionMaxAgeMs: 14 * DAY_MS,
  senderKeyMaxAgeMs: 3 * DAY_MS,
  foreignSenderKeyMaxAgeMs: 30 * DAY_MS,
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
  const eligible = withoutDoubles(files).filter((f) => classifyFile(f.name) === f.category);

  const preKeyRank = rankPreKeys(eligible);
  // A NaN count would make every `rank < count` false and protect nothing: treat it as "keep all".
  const keepNewest = floorCount(rules.keepPreKeys);
  const newestPresent = preKeyRank.maxId;
  const credsNewest = rules.newestPreKeyId ?? null;
  const minAgeMs = options.force === true ? 0 : rules.minAgeMs;
  const own = rules.ownUsers ? new Set(rules.ownUsers) : null;

  const deletions: CleanupDeletion[] = [];
  let bytesFreed = 0;
  let heldByMinAge = 0;
  let heldUntil: number | null = null;
  for (const f of eligible) {
    const age = now - f.mtimeMs;
    // NaN (not stat'ed) and files dated in the future (clock skew) are never judged, even with force.
    if (!(age >= 0)) continue;
    const reason = ruleFor(f, age, rules, { keepNewest, newestPresent, credsNewest, own, preKeyRank });
    if (reason === undefined) continue;
    if (!(age >= minAgeMs)) {
      heldByMinAge++;
      const until = f.mtimeMs + minAgeMs;
      if (heldUntil === null || until < heldUntil) heldUntil = until;
      continue;
    }
    // Say so when forced: the operator asked to override the one rule that protects files in use.
    const forced =
      age < rules.minAgeMs
        ? `; ${formatDuration(age)} old < minAge ${formatDuration(rules.minAgeMs)} (force)`
        : "";
    deletions.push({ file: f.name, category: f.category, reason: reason + forced });
    bytesFreed += f.size;
  }

  // Code-unit order, not localeCompare: the same plan whatever the machine's locale.
  deletions.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const keep = files.length - deletions.length;
  return { delete: deletions, keep, keepCount: keep, bytesFreed, heldByMinAge, heldUntil };
}

/** The files whose name appears once (a listing cannot hold a name twice; the input as given when none does). */
function withoutDoubles(files: readonly CleanupFile[]): readonly CleanupFile[] {
  const seen = new Set<string>();
  const doubles = new Set<string>();
  for (const f of files) {
    if (seen.has(f.name)) doubles.add(f.name);
    else seen.add(f.name);
  }
  return doubles.size === 0 ? files : files.filter((f) => !doubles.has(f.name));
}

/**
 * The least age past which some age rule of ruleFor can delete a file: a session, sender key,
 * sender-key-memory or tctoken this young or younger is kept by every rule (and so is never held by
 * minAge either). NaN when a rule's age is NaN. Kept beside ruleFor: a new age rule goes here too.
 */
export function youngestDeletableAge(rules: CleanupRules): number {
  return Math.min(
    rules.sessionMaxAgeMs,
    rules.senderKeyMaxAgeMs,
    rules.foreignSenderKeyMaxAgeMs,
    TCTOKEN_MAX_AGE_MS,
  );
}

interface RuleContext {
  keepNewest: number;
  newestPresent: number | null;
  credsNewest: number | null;
  own: ReadonlySet<string> | null;
  preKeyRank: ReturnType<typeof rankPreKeys>;
}

/** The rule that allows deleting `f` at this age, or undefined (kept). */
function ruleFor(f: CleanupFile, age: number, rules: CleanupRules, ctx: RuleContext): string | undefined {
  switch (f.category) {
    case "pre-key": {
      const ranked = ctx.preKeyRank.byName.get(f.name);
      if (ranked === undefined) return undefined; // id unknown or contradicting the name: cannot rank it
      const { id, rank } = ranked;
      if (rank < ctx.keepNewest || id === ctx.newestPresent) return undefined;
      // Baileys checks `nextPreKeyId - 1` on every connect and re-uploads when it is missing
      // (Baileys#2797); ids above it were written but not yet recorded in creds, so keep those too.
      if (ctx.credsNewest !== null && id >= ctx.credsNewest) return undefined;
      return `pre-key ${id} is older than the newest ${ctx.keepNewest} kept (#${rank + 1} by id, highest ${ctx.newestPresent})`;
    }
    case "session": {
      // Our own user unknown: a session of our own phone cannot be told apart, so none goes.
      if (ctx.own === null || isOwn(f.name, ctx.own)) return undefined;
      return age > rules.sessionMaxAgeMs ? untouched("session", age, rules.sessionMaxAgeMs) : undefined;
    }
    case "sender-key-memory":
      // Records which devices got our own sender key: Baileys re-sends the key when it is missing.
      return age > rules.senderKeyMaxAgeMs ? untouched(f.category, age, rules.senderKeyMaxAgeMs) : undefined;
    case "sender-key": {
      const mine = ctx.own !== null && isOwn(f.name, ctx.own);
      const max = mine ? rules.senderKeyMaxAgeMs : rules.foreignSenderKeyMaxAgeMs;
      const what = mine ? "own sender-key" : "other member's sender-key";
      return age > max ? untouched(what, age, max) : undefined;
    }
    case "tctoken": {
      if (f.name === "tctoken-__index.json") return undefined;
      if (ctx.own !== null && isOwn(f.name, ctx.own)) return undefined;
      return age > TCTOKEN_MAX_AGE_MS
        ? `${untouched("tctoken", age, TCTOKEN_MAX_AGE_MS)}: expired`
        : undefined;
    }
    default:
      return undefined;
  }
}

function isOwn(name: string, own: ReadonlySet<string>): boolean {
  const user = fileUser(name);
  return user !== undefined && own.has(user);
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
