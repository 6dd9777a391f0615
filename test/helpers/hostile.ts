/** Hostile files for the tests of invariant 2: FIFOs (the mkfifo binary) and a way to unblock a reader. */
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";

/** Creates a FIFO (named pipe) at `file`. */
export function mkfifo(file: string): void {
  execFileSync("mkfifo", ["-m", "600", file]);
}

/**
 * Opens the FIFO for writing and closes it at once: a reader blocked in open() (the bug being
 * tested) returns, so a failing test does not leave a libuv thread stuck forever. No-op when no
 * reader waits (ENXIO) or the FIFO is gone.
 */
export function releaseFifoReaders(file: string): void {
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waiting, or no FIFO: nothing to release.
  }
}
