/**
 * The tar side of backups: one entry as bytes (writing) and a parser of the decompressed stream that
 * hashes every entry, rejects unsafe ones (links, devices, paths) and hands file bodies to a callback
 * (reading). Any `tar xzf` reads what a tarEntryEncoder writes.
 * The tar module is imported when a backup is written or read, not with the process: the
 * supervisor takes a backup rarely and keeps its resident memory small the rest of the time.
 */
import { createHash } from "node:crypto";
import type { ReadEntry } from "tar";
import { ErrorCodes, WardenError } from "../../errors.js";
import { type EntryDigest, MANIFEST_NAME, type ParsedEntries } from "./backup-manifest.js";

// Restored files being written at once.
const WRITE_PARALLEL = 16;

/** Called with each regular entry's bytes (extraction). */
export type OnFile = (name: string, data: Buffer, mtime: Date | undefined) => Promise<void>;

/** A sink for the decompressed tar stream; `problems` collects what was wrong. */
export interface ArchiveParser extends ParsedEntries {
  consume: (source: AsyncIterable<Buffer>) => Promise<void>;
  entries: Map<string, EntryDigest>;
  problems: string[];
}

/** Writes one tar entry (pax header when the name does not fit ustar), data, padding to 512 bytes. */
export type TarEntryEncoder = (name: string, data: Buffer, mtime: Date, uid: number, gid: number) => Buffer;

let tarLoad: Promise<typeof import("tar")> | undefined;
/** The tar module, imported once on first use. */
const loadTar = (): Promise<typeof import("tar")> => {
  tarLoad ??= import("tar");
  return tarLoad;
};

/** The entry encoder (the tar module loaded). */
export async function tarEntryEncoder(): Promise<TarEntryEncoder> {
  const { Header, Pax } = await loadTar();
  return (name, data, mtime, uid, gid) => {
    const header = new Header({ path: name, mode: 0o600, uid, gid, size: data.length, mtime, type: "File" });
    const parts: Buffer[] = [];
    // As tar's own WriteEntry: encode() returns true when a field does not fit (names > 100 bytes).
    if (header.encode()) parts.push(new Pax({ path: name, size: data.length, mtime, uid, gid }).encode());
    if (!header.block)
      throw new WardenError(ErrorCodes.BACKUP_ENTRY_UNENCODABLE, `tar header for ${name} was not encoded`, {
        file: name,
      });
    parts.push(header.block, data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad > 0) parts.push(Buffer.alloc(pad));
    return Buffer.concat(parts);
  };
}

/** A sink for the decompressed tar stream that hashes entries and rejects unsafe ones. */
export async function newArchiveParser(onFile: OnFile | undefined): Promise<ArchiveParser> {
  const { Parser } = await loadTar();
  const state: ArchiveParser = {
    consume,
    entries: new Map(),
    manifestBytes: null,
    credsBytes: null,
    problems: [],
  };
  // strict: every tar warning (bad checksum, truncation) is an error event, reported below.
  const parser = new Parser({ strict: true });
  const writes = new Set<Promise<void>>();
  let writeError: unknown = null;
  parser.on("error", (err: Error) => state.problems.push(`tar: ${err.message}`));
  parser.on("entry", (entry: ReadEntry) => {
    const name = entry.path;
    if (entry.type !== "File" && entry.type !== "OldFile") {
      state.problems.push(`${name}: a ${entry.type} entry, only regular files belong in a backup`);
      entry.resume();
      return;
    }
    if (!isPlainName(name)) {
      state.problems.push(`${JSON.stringify(name)}: unsafe entry name (not a plain file name), ignored`);
      entry.resume();
      return;
    }
    if (state.entries.has(name)) {
      state.problems.push(`${name}: appears twice in the archive`);
      entry.resume();
      return;
    }
    state.entries.set(name, { size: -1, sha256: "" }); // claims the name until the body is read
    const keepBytes = onFile !== undefined || name === MANIFEST_NAME || name === "creds.json";
    const hash = createHash("sha256");
    const chunks: Buffer[] = [];
    let size = 0;
    entry.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      if (keepBytes) chunks.push(chunk);
    });
    entry.on("end", () => {
      state.entries.set(name, { size, sha256: hash.digest("hex") });
      const data = keepBytes ? Buffer.concat(chunks) : null;
      if (name === MANIFEST_NAME) state.manifestBytes = data;
      else if (name === "creds.json") state.credsBytes = data;
      if (onFile && data && name !== MANIFEST_NAME) {
        const write = onFile(name, data, entry.mtime).catch((err: unknown) => {
          writeError ??= err;
        });
        writes.add(write);
        void write.finally(() => writes.delete(write));
      }
    });
  });
  const finished = new Promise<void>((resolve) => {
    parser.on("end", resolve);
    parser.on("abort", resolve);
  });

  async function consume(source: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of source) {
      if (!parser.write(chunk)) await new Promise((resolve) => parser.once("drain", resolve));
      // Back-pressure for extraction: do not decompress faster than the files reach the disk.
      while (writes.size >= WRITE_PARALLEL) await Promise.race(writes);
      if (writeError) throw writeError;
    }
    parser.end();
    await finished;
    await Promise.all(writes);
    if (writeError) throw writeError;
  }
  return state;
}

function isPlainName(name: string): boolean {
  return name.length > 0 && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}
