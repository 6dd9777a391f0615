/**
 * Baileys' AuthenticationState over a database store, with the folder store's guarantees
 * (src/worker/auth-state.ts): values are exactly the bytes a key file would hold (BufferJSON), each
 * `keys.set` is ONE transaction, writes run in call order, `flush()` waits for them, and `onWrite`
 * sees every creds / app-state key write once committed (the creds snapshots).
 * Fail closed, unlike the community stores that fall back to initAuthCreds() on any error: a read
 * that fails throws (never "missing"), and creds start fresh only when the database holds no row
 * at all. A creds row missing beside other keys is damage, reported, never paired over.
 */
import { type AuthenticationCreds, BufferJSON, initAuthCreds, proto, type SignalDataTypeMap } from "baileys";
import type { Clock } from "../clock.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { isSnapshotFile } from "../fleet/classify-file.js";
import type { Logger } from "../logger.js";
import type { AuthPut, AuthRows } from "./auth-rows.js";
import { fixKeyId, nameOfKey } from "./key-names.js";

/** The same shape as the folder store's AtomicAuthState, plus close(). */
export interface DatabaseAuthState {
  state: import("baileys").AuthenticationState;
  saveCreds(): Promise<void>;
  flush(): Promise<void>;
  /** Flushes, then closes the database connection. */
  close(): Promise<void>;
}

/** Options of openDatabaseAuthState. */
export interface DatabaseAuthStateOptions {
  clock: Pick<Clock, "now">;
  logger?: Logger;
  /** As the folder store's: creds.json / app-state-sync-key bytes after each committed write. */
  onWrite?: (file: string, data: Buffer) => void | Promise<void>;
  /** A write failed (disk full, database gone): the caller stops the company rather than run on lost writes. */
  onFailure?: (err: unknown) => void;
}

/** Opens a database store as a Baileys auth state; throws a coded error instead of starting fresh on a failed read. */
export async function openDatabaseAuthState(
  rows: AuthRows,
  options: DatabaseAuthStateOptions,
): Promise<DatabaseAuthState> {
  const { clock, logger, onWrite } = options;
  const creds = await openCreds(rows, clock);
  const pending = new Set<Promise<unknown>>();
  let chain: Promise<void> = Promise.resolve();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };
  const notify = (name: string, bytes: Buffer) => {
    if (!onWrite || !isSnapshotFile(name)) return;
    track(
      Promise.resolve()
        .then(() => onWrite(name, bytes))
        .catch((err) =>
          logger?.error(
            { err, file: name },
            `Snapshot of ${name} failed (the write succeeded): ${describeError(err)}`,
          ),
        ),
    );
  };
  // Writes in call order, each one transaction; a failure is reported and rethrown to Baileys.
  const serial = (build: () => { puts: AuthPut[]; deletes: string[] }): Promise<void> => {
    const run = chain.then(async () => {
      const { puts, deletes } = build();
      try {
        await rows.write(puts, deletes, clock.now());
      } catch (err) {
        options.onFailure?.(err);
        throw err;
      }
      for (const put of puts) notify(put.name, put.data);
    });
    chain = run.catch(() => undefined);
    return track(run);
  };

  const state: import("baileys").AuthenticationState = {
    creds,
    keys: {
      get: async (type, ids) => {
        await chain; // read what the last queued write leaves
        const names = ids.map((id) => nameOfKey(type, fixKeyId(id)));
        const values = await rows.read(names, clock.now());
        const data: { [id: string]: SignalDataTypeMap[typeof type] } = {};
        ids.forEach((id, i) => {
          const bytes = values.get(names[i] as string);
          let value: unknown = bytes ? JSON.parse(bytes.toString("utf8"), BufferJSON.reviver) : null;
          if (type === "app-state-sync-key" && value)
            value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
          data[id] = value as SignalDataTypeMap[typeof type];
        });
        return data;
      },
      set: (data) =>
        serial(() => {
          const puts: AuthPut[] = [];
          const deletes: string[] = [];
          for (const category in data) {
            const entries = data[category as keyof typeof data] ?? {};
            for (const id in entries) {
              const name = nameOfKey(category, fixKeyId(id));
              const value = entries[id];
              if (value) puts.push({ name, data: encode(value) });
              else deletes.push(name);
            }
          }
          return { puts, deletes };
        }),
    },
  };
  const flush = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return {
    state,
    // Serialized when the write runs: Baileys mutates creds in place and the row must hold its latest state.
    saveCreds: () => serial(() => ({ puts: [{ name: "creds.json", data: encode(creds) }], deletes: [] })),
    flush,
    close: async () => {
      await flush();
      await rows.close();
    },
  };
}

function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, BufferJSON.replacer), "utf8");
}

/** The stored creds; fresh ones only for a database with no row at all (a company about to pair). */
async function openCreds(rows: AuthRows, clock: Pick<Clock, "now">): Promise<AuthenticationCreds> {
  const stored = (await rows.read(["creds.json"])).get("creds.json");
  if (stored) {
    let creds: unknown;
    try {
      creds = JSON.parse(stored.toString("utf8"), BufferJSON.reviver);
    } catch (err) {
      throw credsDamaged(rows, `does not parse: ${(err as Error).message}`);
    }
    if (creds === null || typeof creds !== "object" || Array.isArray(creds))
      throw credsDamaged(rows, "does not hold a creds object");
    return creds as AuthenticationCreds;
  }
  const others = (await rows.list()).length;
  if (others > 0) throw credsDamaged(rows, `is missing while ${others} key row(s) exist`);
  // Stored at once: creds always precede any key, so "keys without creds" can only mean damage.
  const fresh = initAuthCreds();
  await rows.write([{ name: "creds.json", data: encode(fresh) }], [], clock.now());
  return fresh;
}

function credsDamaged(rows: AuthRows, why: string): WardenError {
  return new WardenError(
    ErrorCodes.CREDS_UNREADABLE,
    `The creds row of ${rows.location} ${why}: the company is not started (pairing over it would make a new identity)`,
    { file: rows.location },
  );
}
