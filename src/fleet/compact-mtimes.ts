/**
 * The per-file mtimes a full scan stat'ed, kept compactly between scans (event scans reuse them
 * instead of a stat per file). A Map of file name -> mtime keeps every name string, a Map entry and
 * a heap number per file (a million age-ruled files at 10,000 companies); this keeps 16 bytes a
 * file: a sorted Float64Array of 53-bit name hashes and one of mtimes. Two names of one folder sharing a 53-bit
 * hash (odds ~1e-12 for a folder of 200) would read one's mtime for the other until the next full
 * scan stats them again: a file judged by a neighbour's age for at most scan.reconcileEvery.
 */

/** What a scan needs of the remembered mtimes. */
export interface MtimeLookup {
  /** The mtime (ms) remembered for `name`, or undefined when the last full scan did not stat it. */
  get(name: string): number | undefined;
  /** How many files are remembered. */
  readonly size: number;
}

/** cyrb53: a fast 53-bit string hash (public domain, bryc). */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A folder's remembered mtimes in two typed arrays. */
export class CompactMtimes implements MtimeLookup {
  private readonly hashes: Float64Array;
  private readonly mtimes: Float64Array;

  constructor(mtimes: ReadonlyMap<string, number>) {
    const pairs = [...mtimes].map(([name, mtime]) => [hash53(name), mtime] as const);
    pairs.sort((a, b) => a[0] - b[0]);
    this.hashes = Float64Array.from(pairs, (p) => p[0]);
    this.mtimes = Float64Array.from(pairs, (p) => p[1]);
  }

  get size(): number {
    return this.hashes.length;
  }

  get(name: string): number | undefined {
    const key = hash53(name);
    let lo = 0;
    let hi = this.hashes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.hashes[mid] as number;
      if (at === key) return this.mtimes[mid];
      if (at < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
