/**
 * Tallies and count.basis "counted": every file except the newest `preKeyReserve` pre-keys, because a
 * fresh v7 pairing uploads 812 pre-keys at once (INITIAL_PREKEY_COUNT) while the thresholds come
 * from a v6 fleet that uploaded 30. The default basis, "stale", is judged in
 * src/actions/cleanup/count-stale.ts with the cleanup rules.
 */
import { type Category, type CategoryCounts, classifyFile, emptyCounts, preKeyId } from "./classify-file.js";

export type { CountBasis } from "../store/snapshot-types.js";

/** What the names in one folder add up to. */
export interface FileTally {
  total: number;
  byCategory: CategoryCounts;
  preKeys: number;
  maxPreKeyId: number | null;
}

/**
 * Tallies regular file names by category. Pure but for `categories`: when given, each name's
 * category is appended to it, in the order of `names` (a scan classifies each name once).
 */
export function tallyFiles(names: Iterable<string>, categories?: Category[]): FileTally {
  const byCategory = emptyCounts();
  let total = 0;
  let maxPreKeyId: number | null = null;
  for (const name of names) {
    total++;
    const category = classifyFile(name);
    categories?.push(category);
    byCategory[category]++;
    if (category === "pre-key") {
      const id = preKeyId(name);
      if (id !== undefined && (maxPreKeyId === null || id > maxPreKeyId)) maxPreKeyId = id;
    }
  }
  return { total, byCategory, preKeys: byCategory["pre-key"], maxPreKeyId };
}

/** Files counted against the thresholds: all but the newest `reserve` pre-keys. */
export function countedFiles(tally: Pick<FileTally, "total" | "preKeys">, reserve: number): number {
  return tally.total - Math.min(Math.max(0, reserve), tally.preKeys);
}
