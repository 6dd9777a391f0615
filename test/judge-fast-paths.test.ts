/**
 * The scan's and the count's fast paths give what the plain code gave: the name readers (loops, not
 * regexes or slices), the compact mtimes (two code units per hash step), and countSnapshot leaving
 * out the files no rule is old enough to judge. Each is checked against a reference written the
 * plain way, on generated names and folders.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countSnapshot } from "../src/actions/cleanup/count-stale.js";
import { type DownInterval, withoutDownTime } from "../src/actions/cleanup/down-time.js";
import { type CleanupFile, planCleanup } from "../src/actions/cleanup/plan-cleanup.js";
import { companyDefaultsSchema } from "../src/config/schema.js";
import { CATEGORIES, type Category, classifyFile, preKeyId } from "../src/fleet/classify-file.js";
import { CompactMtimes } from "../src/fleet/compact-mtimes.js";
import { tallyFiles } from "../src/fleet/count-files.js";
import { fileUser } from "../src/fleet/file-user.js";
import { AGE_RULED_CATEGORIES, type FolderSnapshot } from "../src/fleet/scan-folder.js";

// ---- references: the plain code the fast paths replaced

const REFERENCE_PREFIXES: readonly (readonly [string, Category])[] = [
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

function referenceClassify(name: string): Category {
  if (name === "creds.json") return "creds";
  if (!name.endsWith(".json")) return "other";
  for (const [prefix, category] of REFERENCE_PREFIXES) if (name.startsWith(prefix)) return category;
  return "other";
}

function referencePreKeyId(name: string): number | undefined {
  if (!name.startsWith("pre-key-") || !name.endsWith(".json")) return undefined;
  const digits = name.slice("pre-key-".length, -".json".length);
  if (!/^\d{1,10}$/.test(digits)) return undefined;
  return Number(digits);
}

function referenceFileUser(name: string): string | undefined {
  if (!name.endsWith(".json")) return undefined;
  const base = name.slice(0, -".json".length);
  let id: string | undefined;
  if (base.startsWith("session-")) id = base.slice("session-".length);
  else if (base.startsWith("identity-key-")) id = base.slice("identity-key-".length);
  else if (base.startsWith("device-list-")) id = base.slice("device-list-".length);
  else if (base.startsWith("tctoken-")) id = base.slice("tctoken-".length);
  else if (base.startsWith("sender-key-") && !base.startsWith("sender-key-memory-")) {
    const parts = base.slice("sender-key-".length).split("--");
    id = parts.length >= 3 ? parts[parts.length - 2] : undefined;
  }
  if (id === undefined) return undefined;
  const user = id.split(/[._@-]/)[0];
  return user ? user : undefined;
}

/** countSnapshot's judging before the fast path: every age-ruled file (and pre-keys) to the planner. */
function referenceStale(
  snapshot: Pick<FolderSnapshot, "names" | "mtimes" | "preKeys">,
  rules: Parameters<typeof planCleanup>[1],
  now: number,
  down: readonly DownInterval[],
): { stale: number; heldByMinAge: number; heldUntil: number | null } {
  const withPreKeys = snapshot.preKeys > rules.keepPreKeys;
  const files: CleanupFile[] = [];
  for (const name of snapshot.names) {
    const category = referenceClassify(name);
    if (!AGE_RULED_CATEGORIES.has(category) && !(withPreKeys && category === "pre-key")) continue;
    files.push({ name, category, size: 0, mtimeMs: snapshot.mtimes.get(name) ?? Number.NaN });
  }
  const plan = planCleanup(withoutDownTime(files, down, now), rules, now);
  return { stale: plan.delete.length, heldByMinAge: plan.heldByMinAge, heldUntil: plan.heldUntil };
}

// ---- generators

const PREFIXES = [
  "",
  "creds",
  "pre-key-",
  "session-",
  "sender-key-",
  "sender-key-memory-",
  "app-state-sync-key-",
  "app-state-sync-version-",
  "identity-key-",
  "lid-mapping-",
  "device-list-",
  "tctoken-",
  "tctoken-__index",
  "pre-key",
  "s",
];
const SUFFIXES = ["", ".json", ".json", ".json", ".jso", ".json.bak", "json"];
/** Pieces Baileys' names are made of, separators and oddities included. */
const piece = fc.oneof(
  fc.constantFrom("5511987654321", "0", "12", "1203630250000@g.us", "--", "-", ".", "_", "@", ":", "lid"),
  fc.constantFrom("s.whatsapp.net", "1.0", "00000000001", "99999999999", "٣", "é", "\u0000"),
  fc.string({ maxLength: 6 }),
);
const nameArb = fc
  .tuple(fc.constantFrom(...PREFIXES), fc.array(piece, { maxLength: 6 }), fc.constantFrom(...SUFFIXES))
  .map(([prefix, pieces, suffix]) => prefix + pieces.join("") + suffix);

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

describe("the name readers' loops read what the plain code read", () => {
  it("classifyFile, preKeyId and fileUser agree with their references on generated names", () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        expect(classifyFile(name)).toBe(referenceClassify(name));
        expect(preKeyId(name)).toBe(referencePreKeyId(name));
        expect(fileUser(name)).toBe(referenceFileUser(name));
      }),
      { numRuns: 20_000 },
    );
  });

  it("agree on the edge cases named", () => {
    for (const name of [
      "pre-key-.json",
      "pre-key-12345678901.json",
      "pre-key-1234567890.json",
      "pre-key-007.json",
      "pre-key--1.json",
      "pre-key-1e3.json",
      "session-.json",
      "session-_x.0.json",
      "sender-key-g--.json",
      "sender-key-g---u--0.json",
      "sender-key-g--u--0.json",
      "sender-key-memory-g--u--0.json",
      "tctoken-5511@lid.json",
      "app-state-sync-version-regular.json",
      "creds.json",
      ".json",
    ]) {
      expect(classifyFile(name), name).toBe(referenceClassify(name));
      expect(preKeyId(name), name).toBe(referencePreKeyId(name));
      expect(fileUser(name), name).toBe(referenceFileUser(name));
    }
  });

  it("tallyFiles hands back each name's category in order", () => {
    fc.assert(
      fc.property(fc.array(nameArb, { maxLength: 40 }), (names) => {
        const categories: Category[] = [];
        const tally = tallyFiles(names, categories);
        expect(categories).toEqual(names.map(referenceClassify));
        expect(tally.total).toBe(names.length);
        for (const category of CATEGORIES)
          expect(tally.byCategory[category]).toBe(categories.filter((c) => c === category).length);
      }),
    );
  });
});

describe("compact mtimes", () => {
  it("give back every mtime of any set of names (odd lengths, NUL, non-ASCII, near-identical)", () => {
    const entries = fc.uniqueArray(fc.tuple(fc.oneof(nameArb, fc.string()), fc.double({ noNaN: true })), {
      selector: ([name]) => name,
      maxLength: 120,
    });
    fc.assert(
      fc.property(entries, (pairs) => {
        const original = new Map(pairs);
        const compact = new CompactMtimes(original);
        expect(compact.size).toBe(original.size);
        for (const [name, mtime] of original) expect(Object.is(compact.get(name), mtime)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
    const near = new CompactMtimes(
      new Map([
        ["a", 1],
        ["a\u0000", 2],
        ["", 3],
      ]),
    );
    expect([near.get("a"), near.get("a\u0000"), near.get(""), near.get("\u0000")]).toEqual([
      1,
      2,
      3,
      undefined,
    ]);
  });
});

describe("countSnapshot leaves out only files no rule is old enough to judge", () => {
  const KINDS = ["session", "sender-key", "sender-key-memory", "tctoken", "pre-key", "device-list"] as const;
  const fileName = (kind: (typeof KINDS)[number], n: number, own: boolean): string => {
    const user = own ? "5511900000000" : `55119${String(10_000_000 + n).padStart(8, "0")}`;
    switch (kind) {
      case "session":
        return `session-${user}.${n % 3}.json`;
      case "sender-key":
        return `sender-key-1203630${String(n % 7).padStart(11, "0")}@g.us--${user}--${n % 2}.json`;
      case "sender-key-memory":
        return `sender-key-memory-1203630${String(n).padStart(11, "0")}@g.us.json`;
      case "tctoken":
        return n % 9 === 0 ? "tctoken-__index.json" : `tctoken-${user}@lid.json`;
      case "pre-key":
        return `pre-key-${n}.json`;
      case "device-list":
        return `device-list-${user}.json`;
    }
  };
  const days = fc.integer({ min: 0, max: 40 }).map((d) => d * DAY);
  const dayText = fc.integer({ min: 0, max: 40 }).map((d) => `${d}d`);
  const settingsArb = fc
    .record({
      sessionMaxAge: dayText,
      senderKeyMaxAge: dayText,
      foreignSenderKeyMaxAge: dayText,
      minAge: dayText,
      keepPreKeys: fc.integer({ min: 1, max: 8 }),
    })
    .map((c) => companyDefaultsSchema.parse({ cleanup: c }));
  const fileArb = fc.record({
    kind: fc.constantFrom(...KINDS),
    n: fc.integer({ min: 0, max: 60 }),
    own: fc.boolean(),
    // Ages on and around whole days (each rule's limit), anywhere, in the future, or not stat'ed.
    age: fc.oneof(
      fc.tuple(days, fc.constantFrom(-1, 0, 1)).map(([d, o]) => d + o),
      fc.integer({ min: -DAY, max: 45 * DAY }),
      fc.constant(Number.NaN),
    ),
  });
  const downArb = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 45 * DAY }), fc.integer({ min: 0, max: 10 * DAY })), {
      maxLength: 3,
    })
    .map((spans) =>
      spans
        .map(([ago, length]) => ({ from: NOW - ago, to: Math.min(NOW, NOW - ago + length) }))
        .sort((a, b) => a.from - b.from),
    );

  it("stale, held-by-minAge and held-until equal the planner's on every age-ruled file", () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.uniqueArray(fileArb, { selector: (f) => fileName(f.kind, f.n, f.own), maxLength: 50 }),
        downArb,
        fc.boolean(),
        (settings, files, down, ownKnown) => {
          const names = files.map((f) => fileName(f.kind, f.n, f.own));
          const mtimes = new Map<string, number>();
          files.forEach((f, i) => {
            if (!Number.isNaN(f.age)) mtimes.set(names[i] as string, NOW - f.age);
          });
          const tally = tallyFiles(names);
          const snapshot = {
            total: names.length,
            preKeys: tally.preKeys,
            names,
            mtimes,
            ownUsers: ownKnown ? ["5511900000000"] : null,
            newestPreKeyId: null,
          };
          const counts = countSnapshot(snapshot, settings, NOW, down);
          const rules = {
            keepPreKeys: settings.cleanup.keepPreKeys as number,
            sessionMaxAgeMs: settings.cleanup.sessionMaxAge,
            senderKeyMaxAgeMs: settings.cleanup.senderKeyMaxAge,
            foreignSenderKeyMaxAgeMs: settings.cleanup.foreignSenderKeyMaxAge,
            minAgeMs: settings.cleanup.minAge,
            newestPreKeyId: null,
            ownUsers: snapshot.ownUsers,
          };
          const reference = referenceStale(snapshot, rules, NOW, down);
          expect({
            stale: counts.stale,
            heldByMinAge: counts.heldByMinAge,
            heldUntil: counts.heldUntil,
          }).toEqual(reference);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
