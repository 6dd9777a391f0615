/**
 * The one way to read a file inside a company folder (creds, keys, backups, restores, snapshots).
 * A hostile or damaged folder must never hang a process or lead it out of the tree (invariant 2):
 * - O_NOFOLLOW: a symlink is refused, never followed (ELOOP), whatever it points at;
 * - O_NONBLOCK: a FIFO swapped in for creds.json opens at once instead of blocking `open()` until a
 *   writer appears (it stalled the supervisor's whole scan, and one worker's every company);
 * - fstat on the descriptor we opened must say "regular file" (no race between a stat and the read);
 * - a size limit, so a huge or endless file cannot exhaust memory.
 * Anything else is a FileRefusedError naming the file and the reason ("a FIFO", "a symlink"...).
 * A missing file is not an error: callers get null and decide.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FileRefusedError } from "../errors.js";

/** Largest file read by default: a creds.json is a few KB, the biggest Baileys key file ~100 KB. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A regular file's bytes and the fstat of the descriptor they were read through. */
export interface RegularFile {
  data: Buffer;
  stat: Stats;
}

/** Options of the readers. */
export interface SafeReadOptions {
  /** Refuse files larger than this (default DEFAULT_MAX_BYTES). */
  maxBytes?: number;
}

/** "a FIFO", "a directory"...: what a non-regular file is, in words an operator reads. */
export function describeFileKind(stat: Stats): string {
  if (stat.isFile()) return "a regular file";
  if (stat.isDirectory()) return "a directory";
  if (stat.isSymbolicLink()) return "a symlink";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  return "not a regular file";
}

/** Reads `file` if it is a regular file (never through a symlink, never blocking); null when absent. */
export function readRegularFileSync(file: string, options: SafeReadOptions = {}): RegularFile | null {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    return openFailed(file, err);
  }
  try {
    const stat = fstatSync(fd);
    const max = checkStat(file, stat, options);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // Sized by the fstat (one byte more: a file that grew is noticed), then 64 KiB at a time; one
      // byte past the limit tells a file that grew beyond it.
      const buf = Buffer.allocUnsafe(chunkSize(stat.size, total, max));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > max) throw tooLarge(file, max);
    }
    return { data: Buffer.concat(chunks, total), stat };
  } finally {
    closeSync(fd);
  }
}

/** Async readRegularFileSync: the same rules, through libuv's pool. */
export async function readRegularFile(
  file: string,
  options: SafeReadOptions = {},
): Promise<RegularFile | null> {
  const handle = await openRegularFile(file, options);
  if (!handle) return null;
  try {
    const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const stat = await handle.stat();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize(stat.size, total, max));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw tooLarge(file, max);
    }
    return { data: Buffer.concat(chunks, total), stat };
  } finally {
    await handle.close();
  }
}

/**
 * Opens `file` for reading if it is a regular file (same rules); null when absent. The caller owns
 * the handle (backups stream archives through it). `maxBytes: Infinity` lifts the size limit.
 */
export async function openRegularFile(
  file: string,
  options: SafeReadOptions = {},
): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    return openFailed(file, err);
  }
  try {
    checkStat(file, await handle.stat(), options);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function chunkSize(statSize: number, total: number, max: number): number {
  const wanted = total <= statSize ? statSize - total + 1 : 64 * 1024;
  return Math.max(1, Math.min(wanted, 64 * 1024 * 16, max + 1 - total));
}

function openFailed(file: string, err: unknown): null {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return null;
  if (code === "ELOOP") throw new FileRefusedError(file, "a symlink (never followed)", { cause: err });
  if (code === "ENXIO")
    throw new FileRefusedError(file, "a socket or device without a reader", { cause: err });
  throw new FileRefusedError(file, `unreadable (${code ?? (err as Error).message})`, { cause: err });
}

function checkStat(file: string, stat: Stats, options: SafeReadOptions): number {
  if (!stat.isFile()) throw new FileRefusedError(file, describeFileKind(stat));
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (stat.size > max) throw tooLarge(file, max);
  return max;
}

function tooLarge(file: string, max: number): FileRefusedError {
  return new FileRefusedError(file, `larger than the ${max}-byte limit`);
}
