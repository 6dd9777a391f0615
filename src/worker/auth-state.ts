/**
 * Baileys' multi-file auth state (same folder layout, file names and encoding as Baileys'
 * useMultiFileAuthState, so existing folders keep working and the supervisor reads them) with
 * these changes:
 * - every write is atomic: temp file in the same folder, fsync, rename (creds.json also fsyncs the
 *   folder so the rename itself survives a power cut), so a kill -9 never leaves a torn file;
 * - a creds.json that exists but does not parse is an error. Baileys' own version silently starts
 *   from initAuthCreds() and the next saveCreds() overwrites the damaged file: the device is lost;
 * - temp files left by a writer killed between write and rename are removed on open;
 * - `flush()` lets the caller wait for every pending write before it lets go of the folder;
 * - `onWrite` sees the bytes of each creds.json / app-state-sync-key write once it is on disk (the
 *   worker keeps them as creds snapshots in SQLite).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { open, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataTypeMap,
} from "baileys";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { ATOMIC_TMP_PREFIX, isSnapshotFile } from "../fleet/classify-file.js";
import { readRegularFile } from "../fs/safe-read.js";
import type { Logger } from "../logger.js";

// One definition: the scanner skips these names, this module writes and cleans them.
export { ATOMIC_TMP_PREFIX };

/** Baileys' fixFileName: "/" -> "__", ":" -> "-". */
export function fixFileName(file: string): string {
  return file.replace(/\//g, "__").replace(/:/g, "-");
}

/** The auth state with atomic writes; `flush()` resolves when every pending write (and its onWrite) is done. */
export interface AtomicAuthState {
  state: AuthenticationState;
  saveCreds(): Promise<void>;
  flush(): Promise<void>;
}

/** Options of useAtomicMultiFileAuthState. */
export interface AtomicAuthStateOptions {
  /**
   * Called with the file name (as on disk) and the bytes written, after the rename put them in
   * place, for creds.json and app-state-sync-key files only. `flush()` waits for the promise it
   * returns; a throw or a rejection is logged and never fails the write.
   */
  onWrite?: (file: string, data: Buffer) => void | Promise<void>;
  /**
   * false: a missing folder is an error (COMPANY_FOLDER_MISSING) instead of being created. A
   * worker's socket passes false: Baileys' own useMultiFileAuthState mkdirs it and writes fresh
   * creds, which undid an operator's removal. Default true (pairing helpers, tests).
   */
  create?: boolean;
}

// Per file path, process-wide (as Baileys' own fileLocks): writes to one file run in call order
// even when two auth states of the same folder are alive (an old socket still flushing while the
// next one opens), so an older value can never land after a newer one.
const chains = new Map<string, Promise<void>>();
// Temp files being written right now in this process: cleanup on open must not remove them.
const inFlightTemps = new Set<string>();

/** Opens (creating if needed, unless `create` is false) a company folder as a Baileys auth state with atomic writes. */
export async function useAtomicMultiFileAuthState(
  folder: string,
  logger?: Logger,
  options: AtomicAuthStateOptions = {},
): Promise<AtomicAuthState> {
  assertFolder(folder, options.create !== false);
  await removeLeftoverTemps(folder, logger);
  const files = new FolderFiles(folder, logger, options.onWrite);
  const creds = (await readStoredCreds(files, folder)) ?? initAuthCreds();
  const state: AuthenticationState = { creds, keys: signalKeys(files, logger) };
  return {
    state,
    saveCreds: () => files.write(creds, "creds.json"),
    flush: () => files.flush(),
  };
}

/** The folder must be a directory; a missing one is created only when `create` allows it. */
function assertFolder(folder: string, create: boolean): void {
  const st = statSync(folder, { throwIfNoEntry: false });
  if (st && !st.isDirectory())
    throw new WardenError(ErrorCodes.AUTH_STATE_INVALID, `${folder} is not a directory`, { folder });
  if (!st && !create)
    throw new WardenError(
      ErrorCodes.COMPANY_FOLDER_MISSING,
      `${folder} does not exist: a session never creates a company folder`,
      { folder },
    );
  if (!st) mkdirSync(folder, { recursive: true, mode: 0o700 });
}

/** One folder's reads and writes: serialized per file, each write tracked until `flush()`. */
class FolderFiles {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly folder: string,
    private readonly logger: Logger | undefined,
    private readonly onWrite: AtomicAuthStateOptions["onWrite"],
  ) {}

  /** Runs `task` after every earlier write of `target` (in this process), tracked in `pending`. */
  private serial(target: string, task: () => Promise<void>): Promise<void> {
    const run = (chains.get(target) ?? Promise.resolve()).catch(() => undefined).then(task);
    chains.set(target, run);
    this.pending.add(run);
    void run
      .finally(() => {
        this.pending.delete(run);
        if (chains.get(target) === run) chains.delete(target);
      })
      .catch(() => undefined);
    return run;
  }

  /**
   * Hands the written bytes to onWrite. Tracked in `pending` (flush waits for it) but outside the
   * file's chain: a slow snapshot (the first seal waits for scrypt) never delays the next write of the file.
   */
  private notify(name: string, bytes: Buffer): void {
    const { onWrite, logger } = this;
    if (!onWrite) return;
    const report = (err: unknown) =>
      logger?.error(
        { err, file: name },
        `Snapshot of ${name} failed (the write succeeded): ${describeError(err)}`,
      );
    let result: Promise<void>;
    try {
      result = Promise.resolve(onWrite(name, bytes)).catch(report);
    } catch (err) {
      report(err);
      return;
    }
    const tracked = result.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  write(data: unknown, file: string): Promise<void> {
    const name = fixFileName(file);
    const target = path.join(this.folder, name);
    return this.serial(target, async () => {
      // Serialized when the write runs, not when it was queued: Baileys mutates creds in place and
      // the file must hold its latest state.
      const bytes = Buffer.from(JSON.stringify(data, BufferJSON.replacer), "utf8");
      await writeAtomic(target, bytes, name === "creds.json");
      if (isSnapshotFile(name)) this.notify(name, bytes);
    });
  }

  /** Only keys.set removes, with "<type>-<id>.json" names: creds.json is never deleted. */
  remove(file: string): Promise<void> {
    const target = path.join(this.folder, fixFileName(file));
    return this.serial(target, async () => {
      await unlink(target).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
    });
  }

  async read(file: string): Promise<unknown> {
    const target = path.join(this.folder, fixFileName(file));
    // Baileys reads under the file's mutex: read what the last queued write leaves.
    await chains.get(target)?.catch(() => undefined);
    // Never through a symlink, never blocked by a FIFO (invariant 2): refused with the reason.
    const read = await readRegularFile(target);
    if (!read) return null;
    try {
      return JSON.parse(read.data.toString("utf8"), BufferJSON.reviver);
    } catch (err) {
      throw new WardenError(
        ErrorCodes.CREDS_UNREADABLE,
        `${target} cannot be read: ${(err as Error).message}`,
        { file: target },
        { cause: err },
      );
    }
  }

  /** A write may queue another one (creds.update during a flush): loops until none is left. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

/** creds.json as stored, or null when there is none; a file that holds no creds object is an error. */
async function readStoredCreds(files: FolderFiles, folder: string): Promise<AuthenticationCreds | null> {
  const stored = await files.read("creds.json");
  const credsFile = path.join(folder, "creds.json");
  // `[]` is not creds either: Baileys would pair a new device over it (invariant 9).
  if (stored !== null && (typeof stored !== "object" || stored === undefined || Array.isArray(stored))) {
    throw new WardenError(
      ErrorCodes.CREDS_UNREADABLE,
      `${credsFile} cannot be read: it does not hold a creds object`,
      { file: credsFile },
    );
  }
  // A file that parses to `null` is as damaged as one that does not parse: never start fresh over it.
  if (stored === null && statSync(credsFile, { throwIfNoEntry: false })) {
    throw new WardenError(
      ErrorCodes.CREDS_UNREADABLE,
      `${credsFile} cannot be read: it holds null, not creds`,
      {
        file: credsFile,
      },
    );
  }
  return stored as AuthenticationCreds | null;
}

/** Baileys' key store over the folder: `<type>-<id>.json` files, a null value removes the file. */
function signalKeys(files: FolderFiles, logger: Logger | undefined): AuthenticationState["keys"] {
  return {
    get: async (type, ids) => {
      const data: { [id: string]: SignalDataTypeMap[typeof type] } = {};
      await Promise.all(
        ids.map(async (id) => {
          let value = (await files.read(`${type}-${id}.json`).catch((err) => {
            // Baileys treats an unreadable key file as a missing one; so do we (not for creds).
            logger?.warn({ err, type, id }, "Unreadable key file ignored");
            return null;
          })) as unknown;
          if (type === "app-state-sync-key" && value) {
            value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
          }
          data[id] = value as SignalDataTypeMap[typeof type];
        }),
      );
      return data;
    },
    set: async (data) => {
      const tasks: Promise<void>[] = [];
      for (const category in data) {
        const entries = data[category as keyof typeof data] ?? {};
        for (const id in entries) {
          const value = entries[id];
          const file = `${category}-${id}.json`;
          tasks.push(value ? files.write(value, file) : files.remove(file));
        }
      }
      await Promise.all(tasks);
    },
  };
}

/** Removes `.warden-tmp-*` files a writer killed mid-write left behind; they are never live data. */
async function removeLeftoverTemps(folder: string, logger: Logger | undefined): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true });
  let removed = 0;
  for (const entry of entries) {
    if (!entry.name.startsWith(ATOMIC_TMP_PREFIX) || entry.isDirectory()) continue;
    const file = path.join(folder, entry.name);
    if (inFlightTemps.has(file)) continue;
    try {
      await unlink(file);
      removed++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  if (removed > 0) logger?.info({ folder, removed }, `Removed ${removed} temp file(s) of interrupted writes`);
}

/** Writes `bytes` to `target` atomically: temp file, fsync, rename; `syncDir` also fsyncs the folder. */
async function writeAtomic(target: string, bytes: Buffer, syncDir: boolean): Promise<void> {
  const dir = path.dirname(target);
  const tmp = path.join(
    dir,
    // Short on purpose: the target's name plus a suffix could pass NAME_MAX (255) where Baileys' own
    // in-place write would not.
    `${ATOMIC_TMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`,
  );
  inFlightTemps.add(tmp);
  try {
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (err) {
    // ENOSPC, EIO...: the target is untouched; do not leave the half-written temp file behind.
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    inFlightTemps.delete(tmp);
  }
  if (syncDir) {
    const dirHandle = await open(dir, "r");
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}
