import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CleanupFile,
  type CleanupPlan,
  type CleanupRules,
  DEFAULT_CLEANUP_RULES,
  planCleanup,
} from "../src/actions/cleanup/plan-cleanup.js";
import { CATEGORIES, type Category, classifyFile, preKeyId } from "../src/fleet/classify-file.js";

const DAY = 86_400_000;
const NOW = 1_760_000_000_000;
const RUNS = { numRuns: 500 };

/** Our own users (creds.me.id / me.lid) are 4915, 4916 and 4917 here: their sender keys are ours. */
const RULES: CleanupRules = { ...DEFAULT_CLEANUP_RULES, keepPreKeys: 50, ownUsers: ["4915", "4916", "4917"] };

/** A correctly labelled file `ageDays` old. */
function file(name: string, ageDays: number, size = 100): CleanupFile {
  return { name, category: classifyFile(name), size, mtimeMs: NOW - ageDays * DAY };
}

/** `count` pre-keys with ids from..from+count-1, all `ageDays` old. */
function preKeys(from: number, count: number, ageDays = 30): CleanupFile[] {
  return Array.from({ length: count }, (_, i) => file(`pre-key-${from + i}.json`, ageDays));
}

const deleted = (plan: CleanupPlan): string[] => plan.delete.map((d) => d.file);

describe("planCleanup: examples", () => {
  it("exports the field notes' defaults", () => {
    expect(DEFAULT_CLEANUP_RULES).toEqual({
      keepPreKeys: 812,
      sessionMaxAgeMs: 14 * DAY,
      senderKeyMaxAgeMs: 3 * DAY,
      foreignSenderKeyMaxAgeMs: 30 * DAY,
      minAgeMs: 7 * DAY,
    });
  });

  it("plans nothing for an empty folder", () => {
    expect(planCleanup([], RULES, NOW)).toEqual({
      delete: [],
      keep: 0,
      keepCount: 0,
      bytesFreed: 0,
      heldByMinAge: 0,
      heldUntil: null,
    });
  });

  it("never deletes creds, app-state or lid-mapping files, however old, even with force", () => {
    const files = [
      file("creds.json", 400),
      file("app-state-sync-key-AAAAAB.json", 400),
      file("app-state-sync-version-regular.json", 400),
      file("lid-mapping-123456.json", 400),
      file("lid-mapping-123456_reverse.json", 400),
    ];
    const zero = { ...RULES, sessionMaxAgeMs: 0, senderKeyMaxAgeMs: 0, minAgeMs: 0 };
    expect(planCleanup(files, zero, NOW, { force: true })).toEqual({
      delete: [],
      keep: 5,
      keepCount: 5,
      bytesFreed: 0,
      heldByMinAge: 0,
      heldUntil: null,
    });
  });

  it("keeps device lists, the tctoken index, identity keys and non-Baileys files", () => {
    const files = [
      file("device-list-4915112345678.json", 400),
      file("tctoken-__index.json", 400),
      file("identity-key-4915112345678.0.json", 400),
      file("notes.txt", 400),
      file("backup.json", 400),
      file(".warden-tmp-abc", 400),
      file("pre-key-5.json.bak", 400),
    ];
    expect(files.filter((f) => f.category === "other")).toHaveLength(4);
    expect(planCleanup(files, { ...RULES, minAgeMs: 0 }, NOW, { force: true }).delete).toEqual([]);
  });

  it("keeps the newest keepPreKeys pre-keys by id and deletes the older ones", () => {
    const plan = planCleanup(preKeys(1, 100), RULES, NOW);
    expect(deleted(plan)).toEqual(
      Array.from({ length: 50 }, (_, i) => `pre-key-${i + 1}.json`).sort((a, b) => (a < b ? -1 : 1)),
    );
    expect(plan.delete.find((d) => d.file === "pre-key-12.json")).toEqual({
      file: "pre-key-12.json",
      category: "pre-key",
      reason: "pre-key 12 is older than the newest 50 kept (#89 by id, highest 100)",
    });
    expect(plan.keep).toBe(50);
  });

  it("ranks by id, not by name or mtime", () => {
    // "pre-key-9" sorts after "pre-key-10" as text, and the low ids are the freshest files here.
    const files = [file("pre-key-9.json", 8), file("pre-key-10.json", 30), file("pre-key-11.json", 30)];
    const plan = planCleanup(files, { ...RULES, keepPreKeys: 2 }, NOW);
    expect(deleted(plan)).toEqual(["pre-key-9.json"]);
  });

  it("keeps the newest keepPreKeys (812 by default) whatever preKeyReserve counts: 900 old pre-keys lose 88", () => {
    const plan = planCleanup(preKeys(1000, 900), { ...RULES, keepPreKeys: 812 }, NOW);
    expect(plan.delete).toHaveLength(88);
    expect(deleted(plan)).toContain("pre-key-1087.json");
    expect(deleted(plan)).not.toContain("pre-key-1088.json");
    expect(plan.delete.find((d) => d.file === "pre-key-1000.json")?.reason).toBe(
      "pre-key 1000 is older than the newest 812 kept (#900 by id, highest 1899)",
    );
  });

  it("never deletes the highest pre-key id, even when nothing else is kept", () => {
    const plan = planCleanup(preKeys(1, 5), { ...RULES, keepPreKeys: 0 }, NOW);
    expect(deleted(plan)).toEqual(["pre-key-1.json", "pre-key-2.json", "pre-key-3.json", "pre-key-4.json"]);
  });

  it("never deletes creds' newest pre-key (nextPreKeyId - 1, Baileys#2797) nor ids above it", () => {
    const rules = { ...RULES, keepPreKeys: 0, newestPreKeyId: 3 };
    expect(deleted(planCleanup(preKeys(1, 6), rules, NOW))).toEqual(["pre-key-1.json", "pre-key-2.json"]);
    // null / absent: creds unknown, only the ranks and the highest id protect.
    expect(planCleanup(preKeys(1, 6), { ...rules, newestPreKeyId: null }, NOW).delete).toHaveLength(5);
  });

  it("keeps every pre-key sharing the boundary id (pre-key-7 and pre-key-007)", () => {
    const files = [...preKeys(5, 4), file("pre-key-007.json", 30)];
    const plan = planCleanup(files, { ...RULES, keepPreKeys: 2 }, NOW);
    expect(deleted(plan)).toEqual(["pre-key-5.json", "pre-key-6.json"]);
  });

  it("keeps pre-keys whose id cannot be read or contradicts the name", () => {
    const files = [
      ...preKeys(1, 3),
      file("pre-key-abc.json", 30),
      { ...file("pre-key-0.json", 30), preKeyId: 99 },
    ];
    const plan = planCleanup(files, { ...RULES, keepPreKeys: 1 }, NOW);
    expect(deleted(plan)).toEqual(["pre-key-1.json", "pre-key-2.json"]);
  });

  it("deletes sessions untouched for more than sessionMaxAge, not at exactly the limit", () => {
    const files = [
      file("session-111.0.json", 21),
      file("session-222.0.json", 14),
      file("session-333.0.json", 13),
    ];
    expect(planCleanup(files, RULES, NOW).delete).toEqual([
      { file: "session-111.0.json", category: "session", reason: "session untouched for 21d (> 14d)" },
    ]);
  });

  it("deletes sender keys and sender-key memory older than senderKeyMaxAge (once past minAge)", () => {
    const files = [
      file("sender-key-1203@g.us--4915--0.json", 8),
      file("sender-key-memory-1203-g.us.json", 8),
      file("sender-key-1203@g.us--4916--0.json", 4),
      file("sender-key-1203@g.us--4917--0.json", 2),
    ];
    const plan = planCleanup(files, RULES, NOW);
    expect(plan.delete).toEqual([
      {
        file: "sender-key-1203@g.us--4915--0.json",
        category: "sender-key",
        reason: "own sender-key untouched for 8d (> 3d)",
      },
      {
        file: "sender-key-memory-1203-g.us.json",
        category: "sender-key-memory",
        reason: "sender-key-memory untouched for 8d (> 3d)",
      },
    ]);
  });

  it("deletes nothing younger than minAge without force; force lowers minAge to 0 and says so", () => {
    const files = [file("sender-key-1203@g.us--4916--0.json", 4), ...preKeys(1, 60, 1)];
    expect(planCleanup(files, RULES, NOW).delete).toEqual([]);
    const forced = planCleanup(files, RULES, NOW, { force: true });
    expect(forced.delete).toHaveLength(11);
    expect(forced.delete.find((d) => d.category === "sender-key")?.reason).toBe(
      "own sender-key untouched for 4d (> 3d); 4d old < minAge 7d (force)",
    );
    expect(forced.delete.find((d) => d.file === "pre-key-1.json")?.reason).toBe(
      "pre-key 1 is older than the newest 50 kept (#60 by id, highest 60); 1d old < minAge 7d (force)",
    );
  });

  it("deletes at exactly minAge, not 1 ms before; force never reaches 1 ms into the future", () => {
    const at = (name: string, ageMs: number) => ({ ...file(name, 0), mtimeMs: NOW - ageMs });
    const rules = { ...RULES, sessionMaxAgeMs: 0 };
    const files = [
      at("session-a.json", 7 * DAY),
      at("session-b.json", 7 * DAY - 1),
      at("session-c.json", -1),
    ];
    expect(deleted(planCleanup(files, rules, NOW))).toEqual(["session-a.json"]);
    expect(deleted(planCleanup(files, rules, NOW, { force: true }))).toEqual([
      "session-a.json",
      "session-b.json",
    ]);
  });

  it("force keeps every other rule", () => {
    const files = [file("session-1.0.json", 10), file("sender-key-x--1-0.json", 1), ...preKeys(1, 50, 0)];
    expect(planCleanup(files, RULES, NOW, { force: true }).delete).toEqual([]);
  });

  it("never deletes a file dated in the future, even with force", () => {
    const files = [file("session-1.0.json", -1), file("sender-key-x--1-0.json", -0.001)];
    const rules = { ...RULES, sessionMaxAgeMs: -5 * DAY, senderKeyMaxAgeMs: -5 * DAY };
    expect(planCleanup(files, rules, NOW, { force: true }).delete).toEqual([]);
  });

  it("keeps files whose category does not match their name, and names listed twice", () => {
    const files: CleanupFile[] = [
      { ...file("creds.json", 400), category: "session" },
      { ...file("backup.json", 400), category: "sender-key" },
      { ...file("session-1.0.json", 400), category: "other" },
      file("session-2.0.json", 400),
      file("session-2.0.json", 400),
    ];
    const plan = planCleanup(files, RULES, NOW, { force: true });
    expect(plan).toEqual({
      delete: [],
      keep: 5,
      keepCount: 5,
      bytesFreed: 0,
      heldByMinAge: 0,
      heldUntil: null,
    });
  });

  it("fails safe on NaN rules: nothing that depends on them is deleted", () => {
    const files = [...preKeys(1, 10), file("session-1.0.json", 30)];
    const plan = planCleanup(files, { ...RULES, keepPreKeys: Number.NaN, sessionMaxAgeMs: Number.NaN }, NOW);
    expect(plan.delete).toEqual([]);
    expect(planCleanup(files, { ...RULES, minAgeMs: Number.NaN }, NOW).delete).toEqual([]);
  });

  it("sorts the plan by name, counts what is kept and the bytes freed", () => {
    const files = [
      file("session-b.json", 30, 700),
      file("creds.json", 30, 2_000),
      file("session-a.json", 30, 300),
      file("session-c.json", 1, 50),
    ];
    const plan = planCleanup(files, RULES, NOW);
    expect(deleted(plan)).toEqual(["session-a.json", "session-b.json"]);
    expect(plan).toMatchObject({ keep: 2, keepCount: 2, bytesFreed: 1_000 });
  });
});

// ---- property tests -------------------------------------------------------------------------

/** A name of the given kind; `n` varies it (and repeats it, on purpose); `variant` picks odd spellings. */
function nameFor(kind: Category, n: number, variant: number): string {
  switch (kind) {
    case "creds":
      return "creds.json";
    case "pre-key":
      // "pre-key-007" shares id 7 with "pre-key-7"; "pre-key-abc" has no id.
      return variant === 0 ? `pre-key-00${n}.json` : variant === 1 ? "pre-key-abc.json" : `pre-key-${n}.json`;
    case "session":
      return `session-${n}.0.json`;
    case "sender-key":
      return `sender-key-1203${n % 3}-g.us--49${n}-0.json`;
    case "sender-key-memory":
      return `sender-key-memory-1203${n}-g.us.json`;
    case "app-state-sync-key":
      return `app-state-sync-key-AAAA${n}.json`;
    case "app-state-sync-version":
      return `app-state-sync-version-${n % 2 === 0 ? "regular" : "critical_block"}.json`;
    case "lid-mapping":
      return n % 2 === 0 ? `lid-mapping-${n}.json` : `lid-mapping-${n}_reverse.json`;
    case "device-list":
      return `device-list-${n}.json`;
    case "tctoken":
      return `tctoken-${n}.json`;
    case "identity-key":
      return `identity-key-${n}.0.json`;
    case "other":
      return [`notes-${n}.txt`, `backup-${n}.json`, `.warden-tmp-${n}`, `pre-key-${n}.json.bak`][
        variant % 4
      ] as string;
  }
}

const kindArb: fc.Arbitrary<Category> = fc.oneof(
  { weight: 8, arbitrary: fc.constant("pre-key" as const) },
  { weight: 3, arbitrary: fc.constant("session" as const) },
  { weight: 2, arbitrary: fc.constantFrom("sender-key" as const, "sender-key-memory" as const) },
  { weight: 4, arbitrary: fc.constantFrom(...CATEGORIES) },
);

const durationArb = fc.oneof(
  fc.integer({ min: 0, max: 20 }).map((d) => d * DAY),
  fc.integer({ min: 0, max: 30 * DAY }),
);

// Small counts often, so the highest-id and creds-newest guards are the only protection left.
const countArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 40 }));

/** Rules without creds' newest pre-key (that one is drawn from the folder's ids, later). */
const baseRulesArb = fc.record({
  keepPreKeys: countArb,
  sessionMaxAgeMs: durationArb,
  senderKeyMaxAgeMs: durationArb,
  foreignSenderKeyMaxAgeMs: durationArb,
  minAgeMs: durationArb,
  // Our own user known and owning none of the generated names: every rule applies.
  ownUsers: fc.constant(["own-user-not-in-names"]),
});

/** Ages on, just under and just over each limit of the rules (and 0); anywhere; in the future. */
function ageArb(rules: Omit<CleanupRules, "newestPreKeyId">): fc.Arbitrary<number> {
  const limits = [0, rules.minAgeMs, rules.sessionMaxAgeMs, rules.senderKeyMaxAgeMs];
  return fc.oneof(
    fc.tuple(fc.constantFrom(...limits), fc.constantFrom(-1, 0, 1)).map(([limit, offset]) => limit + offset),
    fc.integer({ min: -2, max: 30 }).map((d) => d * DAY),
    fc.integer({ min: -DAY, max: 30 * DAY }),
  );
}

function fileArb(rules: Omit<CleanupRules, "newestPreKeyId">): fc.Arbitrary<CleanupFile> {
  return fc
    .record({
      kind: kindArb,
      n: fc.integer({ min: 0, max: 120 }),
      variant: fc.integer({ min: 0, max: 11 }),
      age: ageArb(rules),
      size: fc.integer({ min: 0, max: 10_000 }),
      idMode: fc.constantFrom("given", "absent", "absent", "given", "given", "wrong"),
      // Rarely a label that contradicts the name: a caller bug the planner must survive.
      mislabel: fc.oneof(
        { weight: 20, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(...CATEGORIES) },
      ),
    })
    .map(({ kind, n, variant, age, size, idMode, mislabel }) => {
      const name = nameFor(kind, n, variant);
      const f: CleanupFile = { name, category: mislabel ?? classifyFile(name), size, mtimeMs: NOW - age };
      const id = preKeyId(name);
      if (f.category === "pre-key" && idMode === "given" && id !== undefined) f.preKeyId = id;
      if (f.category === "pre-key" && idMode === "wrong") f.preKeyId = (id ?? 0) + 1 + (n % 50);
      return f;
    });
}

/** Mostly real listings (unique names); sometimes a name twice. */
function filesArb(rules: Omit<CleanupRules, "newestPreKeyId">): fc.Arbitrary<CleanupFile[]> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.uniqueArray(fileArb(rules), { maxLength: 60, selector: (f) => f.name }) },
    { weight: 1, arbitrary: fc.array(fileArb(rules), { maxLength: 60 }) },
  );
}

/** creds' newest pre-key: absent, null, any id, or (often) one of the folder's own ids. */
function newestArb(files: readonly CleanupFile[]): fc.Arbitrary<number | null | undefined> {
  const ids = files.flatMap((f) => {
    const id = preKeyId(f.name);
    return id === undefined ? [] : [id];
  });
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.integer({ min: 0, max: 130 }),
    ids.length > 0 ? fc.constantFrom(...ids) : fc.constant(undefined),
  );
}

/** A folder, the rules for it, and force. */
const caseArb = baseRulesArb.chain((base) =>
  filesArb(base).chain((files) =>
    fc
      .record({ files: fc.constant(files), newest: newestArb(files), force: fc.boolean() })
      .map(({ newest, force }) => ({
        files,
        rules: (newest === undefined ? base : { ...base, newestPreKeyId: newest }) as CleanupRules,
        force,
      })),
  ),
);

const NEVER: readonly Category[] = [
  "creds",
  "app-state-sync-key",
  "app-state-sync-version",
  "lid-mapping",
  "device-list",
  "identity-key",
  "other",
];

/**
 * Names of pre-keys the rules protect, judged from ids as `id(f)` reads them: fewer than
 * max(reserve, keep) pre-keys with a higher id, or the highest id, or creds' newest.
 */
function protectedPreKeys(
  files: readonly CleanupFile[],
  rules: CleanupRules,
  isPreKey: (f: CleanupFile) => boolean,
  id: (f: CleanupFile) => number | undefined,
): Set<string> {
  const withId = files.filter(isPreKey).flatMap((f) => {
    const i = id(f);
    return i === undefined ? [] : [{ name: f.name, id: i }];
  });
  const keep = rules.keepPreKeys;
  const max = Math.max(...withId.map((p) => p.id));
  const out = new Set<string>();
  for (const p of withId) {
    const higher = withId.filter((q) => q.id > p.id).length;
    if (higher < keep || p.id === max || p.id === rules.newestPreKeyId) out.add(p.name);
  }
  return out;
}

const names = (plan: CleanupPlan): string[] => plan.delete.map((d) => d.file);

describe("planCleanup: properties", () => {
  it("never deletes creds, app-state, lid-mapping or any always-kept category", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules, force }) => {
        for (const d of planCleanup(files, rules, NOW, { force }).delete) {
          expect(NEVER).not.toContain(d.category);
          expect(NEVER).not.toContain(classifyFile(d.file));
          expect(d.file).not.toBe("creds.json");
        }
      }),
      RUNS,
    );
  });

  it("never deletes the newest max(reserve, keepPreKeys) pre-keys, the highest id or creds' newest", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules, force }) => {
        const gone = new Set(names(planCleanup(files, rules, NOW, { force })));
        // By the ids the caller passed, and by the ids in the names (what Baileys reads).
        const byGiven = protectedPreKeys(
          files,
          rules,
          (f) => f.category === "pre-key",
          (f) => f.preKeyId ?? preKeyId(f.name),
        );
        const byName = protectedPreKeys(
          files,
          rules,
          (f) => classifyFile(f.name) === "pre-key",
          (f) => preKeyId(f.name),
        );
        for (const name of [...byGiven, ...byName]) expect(gone.has(name)).toBe(false);
      }),
      RUNS,
    );
  });

  it("without force deletes nothing younger than minAge; never anything dated in the future", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules, force }) => {
        const plan = planCleanup(files, rules, NOW, { force });
        const mtime = new Map(files.map((f) => [f.name, f.mtimeMs]));
        for (const d of plan.delete) {
          const age = NOW - (mtime.get(d.file) as number);
          expect(age).toBeGreaterThanOrEqual(force ? 0 : rules.minAgeMs);
        }
      }),
      RUNS,
    );
  });

  it("force is exactly minAge 0: plan(non-force) ⊆ plan(force) = plan(minAge 0)", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules }) => {
        const normal = names(planCleanup(files, rules, NOW));
        const forced = names(planCleanup(files, rules, NOW, { force: true }));
        const zero = names(planCleanup(files, { ...rules, minAgeMs: 0 }, NOW));
        expect(forced).toEqual(zero);
        const forcedSet = new Set(forced);
        for (const name of normal) expect(forcedSet.has(name)).toBe(true);
      }),
      RUNS,
    );
  });

  it("deletes only what a rule allows, and everything a rule allows", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules, force }) => {
        const plan = planCleanup(files, rules, NOW, { force });
        const gone = new Set(names(plan));
        const minAge = force ? 0 : rules.minAgeMs;
        const count = new Map<string, number>();
        for (const f of files) count.set(f.name, (count.get(f.name) ?? 0) + 1);
        const sane = (f: CleanupFile) => count.get(f.name) === 1 && classifyFile(f.name) === f.category;
        // Rankable pre-keys: correctly labelled, an id in the name, no contradicting given id.
        const rankable = (f: CleanupFile) =>
          sane(f) &&
          f.category === "pre-key" &&
          preKeyId(f.name) !== undefined &&
          (f.preKeyId === undefined || f.preKeyId === preKeyId(f.name));
        const ids = files.filter(rankable).map((f) => preKeyId(f.name) as number);
        const keep = rules.keepPreKeys;
        const max = Math.max(...ids);
        for (const f of files) {
          const age = NOW - f.mtimeMs;
          let allowed = false;
          if (sane(f) && age >= minAge) {
            if (f.category === "session") allowed = age > rules.sessionMaxAgeMs;
            if (f.category === "sender-key-memory") allowed = age > rules.senderKeyMaxAgeMs;
            if (f.category === "sender-key") allowed = age > rules.foreignSenderKeyMaxAgeMs;
            if (f.category === "tctoken") allowed = f.name !== "tctoken-__index.json" && age > 28 * DAY;
            if (rankable(f)) {
              const id = preKeyId(f.name) as number;
              const higher = ids.filter((i) => i > id).length;
              const credsNewest = rules.newestPreKeyId ?? Number.POSITIVE_INFINITY;
              allowed = higher >= keep && id !== max && id < credsNewest;
            }
          }
          expect(gone.has(f.name), f.name).toBe(allowed);
        }
      }),
      RUNS,
    );
  });

  it("accounts for every file: keep + delete = files, names from the input once each, bytes summed", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules, force }) => {
        const plan = planCleanup(files, rules, NOW, { force });
        expect(plan.keep + plan.delete.length).toBe(files.length);
        expect(plan.keepCount).toBe(plan.keep);
        const input = new Map(files.map((f) => [f.name, f]));
        const out = names(plan);
        expect(new Set(out).size).toBe(out.length);
        let bytes = 0;
        for (const d of plan.delete) {
          const f = input.get(d.file);
          expect(f).toBeDefined();
          expect(d.category).toBe(f?.category);
          expect(d.reason.length).toBeGreaterThan(0);
          bytes += f?.size ?? 0;
        }
        expect(plan.bytesFreed).toBe(bytes);
      }),
      RUNS,
    );
  });

  it("is deterministic: same input, same plan, sorted by name, whatever the input order", () => {
    fc.assert(
      fc.property(caseArb, ({ files, rules, force }) => {
        const plan = planCleanup(files, rules, NOW, { force });
        expect(planCleanup(files, rules, NOW, { force })).toEqual(plan);
        expect(planCleanup([...files].reverse(), rules, NOW, { force })).toEqual(plan);
        const out = names(plan);
        expect(out).toEqual([...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }),
      RUNS,
    );
  });
});
