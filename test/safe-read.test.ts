/**
 * Invariant 2: every read of a file in a company folder goes through src/fs/safe-read.ts. A FIFO, a
 * symlink, a directory or a huge file is refused at once with a reason; nothing blocks or follows.
 * The scanner race (a FIFO swapped in and out as creds.json while it scans) runs in a child process:
 * before the fix one scan blocked in open() forever.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setImmediate } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCodes, FileRefusedError } from "../src/errors.js";
import { scanFolderSync } from "../src/fleet/scan-folder.js";
import { openRegularFile, readRegularFile, readRegularFileSync } from "../src/fs/safe-read.js";
import { mkfifo, releaseFifoReaders } from "./helpers/hostile.js";

const repoRoot = path.resolve(import.meta.dirname, "..");
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "warden-safe-read-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function refusal(fn: () => unknown): FileRefusedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FileRefusedError) return err;
    throw err;
  }
  throw new Error("expected a FileRefusedError");
}

describe("safe reads", () => {
  it("reads a regular file and returns null for a missing one", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "creds.json"), "{}");
    expect(readRegularFileSync(path.join(dir, "creds.json"))?.data.toString()).toBe("{}");
    expect((await readRegularFile(path.join(dir, "creds.json")))?.data.toString()).toBe("{}");
    expect(readRegularFileSync(path.join(dir, "nope.json"))).toBeNull();
    expect(await readRegularFile(path.join(dir, "nope.json"))).toBeNull();
  });

  it("refuses a FIFO at once, naming the file and 'a FIFO' (sync and async)", async () => {
    const dir = tempDir();
    const fifo = path.join(dir, "creds.json");
    mkfifo(fifo);
    try {
      const err = refusal(() => readRegularFileSync(fifo));
      expect(err.code).toBe(ErrorCodes.FILE_REFUSED);
      expect(err.message).toBe(`${fifo} is a FIFO (named pipe): not read`);
      await expect(readRegularFile(fifo)).rejects.toThrow(/is a FIFO \(named pipe\): not read/);
      await expect(openRegularFile(fifo)).rejects.toBeInstanceOf(FileRefusedError);
    } finally {
      releaseFifoReaders(fifo);
    }
  });

  it("never follows a symlink, even to a good file", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "elsewhere.json"), "{}");
    symlinkSync(path.join(dir, "elsewhere.json"), path.join(dir, "creds.json"));
    const err = refusal(() => readRegularFileSync(path.join(dir, "creds.json")));
    expect(err.reason).toBe("a symlink (never followed)");
    await expect(readRegularFile(path.join(dir, "creds.json"))).rejects.toThrow(/a symlink/);
  });

  it("refuses a directory and a character device", () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "creds.json"));
    expect(refusal(() => readRegularFileSync(path.join(dir, "creds.json"))).reason).toBe("a directory");
    expect(refusal(() => readRegularFileSync("/dev/zero")).reason).toBe("a character device");
  });

  it("refuses a file over the size limit", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "big.json"), Buffer.alloc(2048));
    expect(refusal(() => readRegularFileSync(path.join(dir, "big.json"), { maxBytes: 1024 })).reason).toBe(
      "larger than the 1024-byte limit",
    );
    await expect(readRegularFile(path.join(dir, "big.json"), { maxBytes: 1024 })).rejects.toThrow(
      /larger than the 1024-byte limit/,
    );
  });
});

describe("the scanner and a FIFO creds.json", () => {
  it("reports a FIFO creds.json as corrupt, naming it a FIFO", () => {
    const dir = tempDir();
    mkfifo(path.join(dir, "creds.json"));
    const snap = scanFolderSync(dir, "acme", Date.now());
    expect(snap.creds).toEqual({
      state: "corrupt",
      error: "creds.json is a FIFO (named pipe), not a regular file (not read)",
    });
    expect(snap.irregular).toEqual([{ name: "creds.json", kind: "fifo" }]);
  });

  it("never blocks while a FIFO is swapped in and out as creds.json during scans", async () => {
    const dir = tempDir();
    const folder = path.join(dir, "acme");
    mkdirSync(folder);
    const creds = path.join(folder, "creds.json");
    const fifo = path.join(dir, "swap.fifo");
    const good = path.join(dir, "good.json");
    writeFileSync(creds, "{}");
    mkfifo(fifo);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/fixtures/scan-loop.ts", folder, "20000"],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    let done = false;
    void exited.then(() => {
      done = true;
    });
    const deadline = Date.now() + 60_000;
    let swaps = 0;
    try {
      // Regular file -> FIFO -> (nothing) -> regular file, as fast as the loop allows.
      while (!done && Date.now() < deadline) {
        renameSync(fifo, creds);
        renameSync(creds, fifo);
        writeFileSync(good, "{}");
        renameSync(good, creds);
        swaps++;
        if (swaps % 50 === 0) await setImmediate();
      }
    } finally {
      if (!done) child.kill("SIGKILL");
    }
    const code = await exited;
    expect(out, `the scanning child blocked (after ${swaps} swaps)`).toMatch(/^done /);
    expect(code).toBe(0);
  }, 90_000);
});

describe("safe reads of sizes around the chunking", () => {
  it("reads empty, small and multi-chunk files byte for byte (sync and async)", async () => {
    const dir = tempDir();
    for (const size of [0, 1, 4096, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7]) {
      const file = path.join(dir, `f-${size}`);
      const bytes = Buffer.alloc(size, size % 251);
      writeFileSync(file, bytes);
      expect(readRegularFileSync(file)?.data.equals(bytes)).toBe(true);
      expect((await readRegularFile(file))?.data.equals(bytes)).toBe(true);
    }
  });
});
