/**
 * Baileys' multi-file auth state (same folder layout and file names as useMultiFileAuthState, so
 * existing folders keep working and the supervisor reads them) with two changes:
 * - every write is atomic: temp file in the same folder, fsync, rename (creds.json also fsyncs the
 *   folder), so a kill -9 never leaves a torn creds.json;
 * - a creds.json that exists but does not parse is an error. Baileys' own version silently starts
 *   from initAuthCreds() and the next saveCreds() overwrites the damaged file: the device is lost.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataTypeMap,
} from "baileys";
import { ATOMIC_TMP_PREFIX } from "../fleet/classify-file.js";
import type { Logger } from "../logger.js";

export { ATOMIC_TMP_PREFIX };

/** Baileys' fixFileName: "/" -> "__", ":" -> "-". */
export function fixFileName(file: string): string {
  return file.replace(/\//g, "__").replace(/:/g, "-");
}

/** The auth state with atomic writes; `flush()` resolves when every pending write is on disk. */
export interface AtomicAuthState {
  state: AuthenticationState;
  saveCreds(): Promise<void>;
  flush(): Promise<void>;
}

/** Opens (creating if needed) a company folder as a Baileys auth state with atomic writes. */
export async function useAtomicMultiFileAuthState(folder: string, logger?: Logger): Promise<AtomicAuthState> {
  const st = statSync(folder, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new Error(`${folder} is not a directory`);
  if (!st) mkdirSync(folder, { recursive: true, mode: 0o700 });

  // Leftovers of a writer killed between write and rename: never a live file, safe to remove.
  const leftovers = (await readdir(folder)).filter((n) => n.startsWith(ATOMIC_TMP_PREFIX));
  for (const name of leftovers) await unlink(path.join(folder, name)).catch(() => undefined);
  if (leftovers.length > 0)
    logger?.info({ folder, count: leftovers.length }, "Removed leftover temp files of an interrupted write");

  // One chain per file: writes to the same file happen in call order, never interleaved.
  const chains = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();
  const serial = (file: string, task: () => Promise<void>): Promise<void> => {
    const run = (chains.get(file) ?? Promise.resolve()).catch(() => undefined).then(task);
    chains.set(file, run);
    pending.add(run);
    void run
      .finally(() => {
        pending.delete(run);
        if (chains.get(file) === run) chains.delete(file);
      })
      .catch(() => undefined);
    return run;
  };

  const writeData = (data: unknown, file: string) => {
    const target = path.join(folder, fixFileName(file));
    return serial(target, () =>
      writeAtomic(target, JSON.stringify(data, BufferJSON.replacer), file === "creds.json"),
    );
  };
  const removeData = (file: string) => {
    const target = path.join(folder, fixFileName(file));
    return serial(target, async () => {
      await unlink(target).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
    });
  };
  const readData = async (file: string): Promise<unknown> => {
    const target = path.join(folder, fixFileName(file));
    await chains.get(target)?.catch(() => undefined);
    try {
      return JSON.parse(await readFile(target, "utf8"), BufferJSON.reviver);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new Error(`${target} cannot be read: ${(err as Error).message}`, { cause: err });
    }
  };

  const creds = ((await readData("creds.json")) as AuthenticationCreds | null) ?? initAuthCreds();
  const state: AuthenticationState = {
    creds,
    keys: {
      get: async (type, ids) => {
        const data: { [id: string]: SignalDataTypeMap[typeof type] } = {};
        await Promise.all(
          ids.map(async (id) => {
            let value = (await readData(`${type}-${id}.json`).catch((err) => {
              // A damaged key file is as good as a missing one for Baileys; the creds are not.
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
            tasks.push(value ? writeData(value, file) : removeData(file));
          }
        }
        await Promise.all(tasks);
      },
    },
  };
  return {
    state,
    saveCreds: () => writeData(creds, "creds.json"),
    flush: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

/** Writes `text` to `target` atomically: temp file, fsync, rename; `syncDir` also fsyncs the folder. */
async function writeAtomic(target: string, text: string, syncDir: boolean): Promise<void> {
  const dir = path.dirname(target);
  const tmp = path.join(
    dir,
    `${ATOMIC_TMP_PREFIX}${path.basename(target)}-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
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
