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

/**
 * cyrb53 (a fast 53-bit string hash, public domain, bryc), fed two UTF-16 code units per step and
 * the length last: it hashes every age-ruled name at every stat sweep, so half the steps count.
 */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const pairsEnd = text.length & ~1;
  for (let i = 0; i < pairsEnd; i += 2) {
    const unit = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    h1 = Math.imul(h1 ^ unit, 2654435761);
    h2 = Math.imul(h2 ^ unit, 1597334677);
  }
  // The odd last code unit, then the length (so "a" and "a\0" differ).
  const tail = pairsEnd < text.length ? text.charCodeAt(pairsEnd) : 0;
  h1 = Math.imul(h1 ^ tail ^ (text.length << 16), 2654435761);
  h2 = Math.imul(h2 ^ tail, 1597334677);
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A folder's remembered mtimes in two typed arrays. */
export class CompactMtimes implements MtimeLookup {
  private readonly hashes: Float64Array;
  private readonly mtimes: Float64Array;

  constructor(mtimes: ReadonlyMap<string, number>) {
    // Built at every full scan for every folder: typed arrays and a numeric sort, no per-file pairs.
    const count = mtimes.size;
    const hashes = new Float64Array(count);
    const values = new Float64Array(count);
    let i = 0;
    for (const [name, mtime] of mtimes) {
      hashes[i] = hash53(name);
      values[i] = mtime;
      i++;
    }
    this.hashes = hashes.slice().sort();
    this.mtimes = new Float64Array(count);
    // Each mtime goes to its hash's place; equal hashes (a collision) take the next free slot of
    // their run, so no slot is left unfilled.
    const filled = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      let at = this.firstAtLeast(hashes[k] as number);
      while (filled[at] === 1) at++;
      filled[at] = 1;
      this.mtimes[at] = values[k] as number;
    }
  }

  get size(): number {
    return this.hashes.length;
  }

  /** The index of the first hash >= `key` (the sorted hashes' length if none). */
  private firstAtLeast(key: number): number {
    let lo = 0;
    let hi = this.hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.hashes[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(name: string): number | undefined {
    const key = hash53(name);
    const at = this.firstAtLeast(key);
    return this.hashes[at] === key ? this.mtimes[at] : undefined;
  }
}
