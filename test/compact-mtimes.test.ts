import { describe, expect, it } from "vitest";
import { CompactMtimes } from "../src/fleet/compact-mtimes.js";

/** Names as a Baileys v7 folder holds them, many near-identical. */
function v7Names(n: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const phone = `55119${String(10_000_000 + i).padStart(8, "0")}`;
    names.push(`pre-key-${i}.json`, `session-${phone}.0.json`, `session-${phone}.1.json`);
    names.push(`sender-key-1203630${String(i).padStart(11, "0")}@g.us--${phone}--0.json`);
    names.push(`lid-mapping-${phone}_reverse.json`);
  }
  return names;
}

describe("compact per-file mtimes", () => {
  it("gives back every remembered mtime exactly, and nothing for a name it was not given", () => {
    const names = v7Names(4_000);
    const original = new Map(names.map((name, i) => [name, 1_790_000_000_000 + i * 1_000.5] as const));
    const compact = new CompactMtimes(original);
    expect(compact.size).toBe(names.length);
    for (const [name, mtime] of original) expect(compact.get(name)).toBe(mtime);
    expect(compact.get("session-5511999999999.0.json")).toBeUndefined();
    expect(compact.get("")).toBeUndefined();
  });

  it("holds an empty folder", () => {
    const compact = new CompactMtimes(new Map());
    expect(compact.size).toBe(0);
    expect(compact.get("creds.json")).toBeUndefined();
  });
});
