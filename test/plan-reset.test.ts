/** The reset plan and the live / stale count, pure. */
import { describe, expect, it } from "vitest";
import { countSnapshot } from "../src/actions/cleanup/count-stale.js";
import type { CleanupFile } from "../src/actions/cleanup/plan-cleanup.js";
import { planReset } from "../src/actions/cleanup/plan-reset.js";
import { companyDefaultsSchema } from "../src/config/schema.js";
import { classifyFile } from "../src/fleet/classify-file.js";

const DAY = 86_400_000;
const NOW = 1_760_000_000_000;
const file = (name: string): CleanupFile => ({
  name,
  category: classifyFile(name),
  size: 10,
  mtimeMs: NOW - DAY,
});
const preKeys = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => file(`pre-key-${from + i}.json`));

describe("planReset", () => {
  const folder = [
    file("creds.json"),
    file("app-state-sync-key-AAAA.json"),
    file("app-state-sync-version-regular.json"),
    file("lid-mapping-5511900000001.json"),
    file("lid-mapping-200000000000001_reverse.json"),
    file("device-list-5511900000001.json"),
    file("tctoken-200000000000001@lid.json"),
    file("session-200000000000001_1.0.json"),
    file("session-5511987654321.0.json"),
    file("identity-key-200000000000001_1.0.json"),
    file("identity-key-5511987654321.0.json"),
    file("sender-key-120363025000000000@g.us--5511987654321--12.json"),
    file("sender-key-120363025000000000@g.us--200000000000001_1--0.json"),
    file("sender-key-memory-120363025000000000@g.us.json"),
    file("notes.txt"),
    ...preKeys(1, 900),
  ];

  it("deletes sessions, identity keys, sender keys and pre-keys below the floor; keeps what Baileys needs", () => {
    const plan = planReset(folder, { keepPreKeys: 812, newestPreKeyId: 900, ownUsers: ["5511987654321"] });
    const gone = plan.delete.map((d) => d.file);
    expect(gone.filter((f) => !f.startsWith("pre-key-")).sort()).toEqual([
      "identity-key-200000000000001_1.0.json",
      "sender-key-120363025000000000@g.us--200000000000001_1--0.json",
      "sender-key-120363025000000000@g.us--5511987654321--12.json",
      "sender-key-memory-120363025000000000@g.us.json",
      "session-200000000000001_1.0.json",
    ]);
    const preKeysGone = gone.filter((f) => f.startsWith("pre-key-"));
    expect(preKeysGone).toHaveLength(88);
    expect(preKeysGone).not.toContain("pre-key-89.json");
    expect(plan).toMatchObject({ keep: folder.length - 93, heldByMinAge: 0, heldUntil: null });
  });

  it("keeps creds' newest pre-key and above even below the floor, and never the newest id", () => {
    const gone = planReset(preKeys(1, 10), { keepPreKeys: 1, newestPreKeyId: 6 }).delete.map((d) => d.file);
    expect(gone.sort()).toEqual([
      "pre-key-1.json",
      "pre-key-2.json",
      "pre-key-3.json",
      "pre-key-4.json",
      "pre-key-5.json",
    ]);
    expect(planReset(preKeys(1, 3), { keepPreKeys: 0 }).delete.map((d) => d.file)).not.toContain(
      "pre-key-3.json",
    );
  });
});

describe("countSnapshot", () => {
  const names = [
    "creds.json",
    ...Array.from({ length: 900 }, (_, i) => `pre-key-${i + 1}.json`),
    ...Array.from({ length: 30 }, (_, i) => `session-${5511800000000 + i}.0.json`),
    ...Array.from({ length: 30 }, (_, i) => `lid-mapping-${5511800000000 + i}.json`),
  ];
  const mtimes = new Map<string, number>();
  for (const n of names) if (n.startsWith("session-")) mtimes.set(n, NOW - 20 * DAY);
  // Pre-keys below the 812 floor, as the scanner stats them.
  for (let i = 1; i <= 88; i++) mtimes.set(`pre-key-${i}.json`, NOW - 30 * DAY);
  const snapshot = {
    total: names.length,
    preKeys: 900,
    names,
    mtimes,
    ownUsers: ["5511987654321"],
    newestPreKeyId: 900,
  };
  const base = companyDefaultsSchema.parse({});

  it("counts the stale files by default, the old rule with basis counted, everything with total", () => {
    const stale = countSnapshot(snapshot, base, NOW);
    expect(stale).toMatchObject({
      total: 961,
      stale: 118,
      live: 843,
      reserve: 812,
      counted: 118,
      basis: "stale",
    });
    expect(countSnapshot(snapshot, { ...base, count: { basis: "counted" } }, NOW).counted).toBe(961 - 812);
    expect(countSnapshot(snapshot, { ...base, count: { basis: "total" } }, NOW).counted).toBe(961);
  });

  it("keeps files young enough for minAge out of stale and says until when", () => {
    const young = new Map(mtimes);
    young.set("session-5511800000000.0.json", NOW - 20 * DAY);
    for (let i = 1; i <= 88; i++) young.set(`pre-key-${i}.json`, NOW - 2 * DAY);
    const c = countSnapshot({ ...snapshot, mtimes: young }, base, NOW);
    expect(c).toMatchObject({ stale: 30, heldByMinAge: 88, heldUntil: NOW + 5 * DAY });
  });
});
