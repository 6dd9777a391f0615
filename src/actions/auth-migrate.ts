/**
 * `warden auth migrate <company> --to files|sqlite|postgres`: moves a company's keys between its folder and
 * a database store under the company's hold (no socket writes meanwhile):
 *   read every key of the source (bytes and age: a file's mtime, a row's last write or read)
 *   → write them to the target (a file's mtime becomes its row's times and back, so stale stays stale)
 *   → verify key by key both ways (everything in the source is in the target with the same bytes,
 *     and nothing else is)
 *   → switch warden-auth.json → move the old store aside into WARDEN_HOME/replaced/<company>/.
 * Any failure before the switch removes what was written to the target and leaves the source as it
 * was; the audit row says why.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { rowAge } from "../auth-store/auth-rows.js";
import {
  type AuthStoreAccess,
  companyStoreExists,
  moveCompanyStoreAside,
  openCompanyRows,
  removeCompanyStore,
  storeLocation,
} from "../auth-store/company-rows.js";
import { rowOfName } from "../auth-store/key-names.js";
import {
  readStoreChoice,
  STORE_CHOICE_FILE,
  type StoreKind,
  writeStoreChoice,
} from "../auth-store/store-choice.js";
import type { Clock } from "../clock.js";
import { assertCompanyFolder } from "../config/company-id.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { ATOMIC_TMP_PREFIX } from "../fleet/classify-file.js";
import { syncDir } from "../fleet/sync-dir.js";
import { readRegularFile } from "../fs/safe-read.js";
import { replacedDir } from "../home-layout.js";
import type { Store } from "../store/store.js";
import { formatTimestamp } from "./backup/backup.js";
import { type CompanyHold, holdCompany } from "./company-hold.js";

/** Inputs of runAuthMigrate. */
export interface AuthMigrateOptions {
  store: Store;
  clock: Clock;
  sessionsDir: string;
  company: string;
  to: StoreKind;
  access: AuthStoreAccess;
  actor: string;
  /** Stop the company through its worker first (it reconnects on the new store afterwards). */
  stopFirst?: boolean;
  hold?: CompanyHold;
}

/** What a migration did. */
export interface AuthMigrateResult {
  company: string;
  from: StoreKind;
  to: StoreKind;
  keys: number;
  /** Where the old store went. */
  archived: string;
  auditId: number;
}

/** One key in transit. */
interface Key {
  name: string;
  data: Buffer;
  at: number;
}

/** Copies, verifies, switches and archives; rolls back and throws a coded error on any failure. */
export async function runAuthMigrate(options: AuthMigrateOptions): Promise<AuthMigrateResult> {
  const { store, clock, company, to, actor } = options;
  const dir = assertCompanyFolder(options.sessionsDir, company);
  const from = await readStoreChoice(dir);
  if (from === to) {
    throw new WardenError(
      ErrorCodes.USAGE,
      `${company} already keeps its keys in ${to}: nothing to migrate`,
      {
        company,
        to,
      },
    );
  }
  const hold =
    options.hold ?? (await holdCompany({ store, clock, company, actor, stopFirst: options.stopFirst }));
  let written = false;
  let keyNames: string[] = [];
  let switched = false;
  try {
    const keys = await readKeys(dir, company, from, options.access);
    keyNames = keys.map((k) => k.name);
    await assertTargetEmpty(dir, company, to, options.access, keys);
    hold.renew();
    written = true;
    await writeKeys(dir, company, to, options.access, keys);
    hold.renew();
    await verify(keys, await readKeys(dir, company, to, options.access), from, to);
    await writeStoreChoice(dir, to);
    switched = true;
    const archived = await archive(dir, company, from, options.access, keys, clock.now());
    const auditId = store.audit.add({
      at: clock.now(),
      actor,
      company,
      action: "auth-migrate",
      ok: true,
      result: `moved ${keys.length} keys from ${from} to ${to} (verified key by key); the old store is in ${archived}`,
      detail: { from, to, keys: keys.length, archived },
    });
    return { company, from, to, keys: keys.length, archived, auditId };
  } catch (err) {
    let rollback = "nothing written";
    if (written && !switched) {
      rollback = await removeTarget(dir, company, to, options.access, keyNames).then(
        () => `the ${to} copy was removed; ${company} still uses ${from}`,
        (e) => `removing the ${to} copy failed too (${describeError(e)}); ${company} still uses ${from}`,
      );
    } else if (switched)
      rollback = `${company} uses ${to} (switched); the old ${from} store was not archived`;
    store.audit.add({
      at: clock.now(),
      actor,
      company,
      action: "auth-migrate",
      ok: false,
      result: `failed: ${describeError(err)}; ${rollback}`,
      detail: { from, to },
    });
    throw new WardenError(
      ErrorCodes.AUTH_MIGRATE_FAILED,
      `Migrating ${company} from ${from} to ${to} failed: ${describeError(err)}; ${rollback}`,
      { company, from, to },
      { cause: err },
    );
  } finally {
    if (!options.hold) hold.release("auth migrate done");
  }
}

/** Every key of the store with its bytes and age; a file that is not a Baileys key stops a move to a database. */
async function readKeys(
  dir: string,
  company: string,
  kind: StoreKind,
  access: AuthStoreAccess,
): Promise<Key[]> {
  if (kind !== "files") {
    const rows = await openCompanyRows(access, company, kind);
    try {
      return (await rows.readAll()).map((r) => ({ name: r.name, data: r.data, at: rowAge(r) }));
    } finally {
      await rows.close();
    }
  }
  const keys: Key[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === STORE_CHOICE_FILE || entry.name.startsWith(ATOMIC_TMP_PREFIX)) continue;
    if (!entry.isFile()) continue; // symlinks and the like are never followed (nor moved)
    const read = await readRegularFile(path.join(dir, entry.name), { maxBytes: Number.POSITIVE_INFINITY });
    if (read) keys.push({ name: entry.name, data: read.data, at: Math.round(read.stat.mtimeMs) });
  }
  return keys.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The target holds nothing yet (a rollback then removes only what this migration wrote). */
async function assertTargetEmpty(
  dir: string,
  company: string,
  kind: StoreKind,
  access: AuthStoreAccess,
  keys: readonly Key[],
): Promise<void> {
  if (kind !== "files") {
    const odd = keys.filter((k) => !rowOfName(k.name)).map((k) => k.name);
    if (odd.length > 0) {
      throw new WardenError(
        ErrorCodes.AUTH_MIGRATE_FAILED,
        `${dir} holds ${odd.length} file(s) that are not Baileys keys (${odd.slice(0, 3).join(", ")}): move them out of the folder first`,
        { company, files: odd.slice(0, 20) },
      );
    }
    if (await companyStoreExists(access, company, kind)) {
      const where = storeLocation(access, company, kind);
      throw new WardenError(
        ErrorCodes.AUTH_MIGRATE_FAILED,
        `${where} already exists (an older store of ${company}?): move it away first`,
        { company, where },
      );
    }
    return;
  }
  const present = (await readdir(dir)).filter(
    (n) => n !== STORE_CHOICE_FILE && !n.startsWith(ATOMIC_TMP_PREFIX),
  );
  if (present.length > 0) {
    throw new WardenError(
      ErrorCodes.AUTH_MIGRATE_FAILED,
      `${dir} already holds ${present.length} file(s) (${present.slice(0, 3).join(", ")}) beside its ${STORE_CHOICE_FILE}: move them away first`,
      { company, files: present.slice(0, 20) },
    );
  }
}

async function writeKeys(
  dir: string,
  company: string,
  kind: StoreKind,
  access: AuthStoreAccess,
  keys: readonly Key[],
): Promise<void> {
  if (kind !== "files") {
    const rows = await openCompanyRows(access, company, kind, { create: true });
    try {
      await rows.write(keys, [], Date.now());
    } finally {
      await rows.close();
    }
    return;
  }
  for (const key of keys) await writeFileAt(path.join(dir, key.name), key.data, key.at);
  await syncDir(dir);
}

/** Writes a key file atomically (temp, fsync, rename) with its age as mtime. */
async function writeFileAt(target: string, data: Buffer, at: number): Promise<void> {
  const tmp = path.join(
    path.dirname(target),
    `${ATOMIC_TMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`,
  );
  const handle = await open(tmp, "wx", 0o600);
  try {
    await handle.writeFile(data);
    await handle.utimes(at / 1000, at / 1000);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, target);
}

/** Both directions, key by key: same names, same bytes, same ages. */
async function verify(source: readonly Key[], target: readonly Key[], from: StoreKind, to: StoreKind) {
  const there = new Map(target.map((k) => [k.name, k]));
  const problems: string[] = [];
  for (const key of source) {
    const copy = there.get(key.name);
    if (!copy) problems.push(`${key.name} is missing from ${to}`);
    else if (hash(copy.data) !== hash(key.data)) problems.push(`${key.name} differs in ${to}`);
    else if (Math.abs(copy.at - key.at) > 1)
      problems.push(`${key.name} is dated ${copy.at} in ${to}, ${key.at} in ${from}`);
    there.delete(key.name);
  }
  for (const name of there.keys()) problems.push(`${name} is in ${to} but not in ${from}`);
  if (problems.length > 0) {
    throw new WardenError(
      ErrorCodes.AUTH_MIGRATE_FAILED,
      `the copy did not verify (${problems.length} problem(s): ${problems.slice(0, 3).join("; ")})`,
      { problems: problems.slice(0, 20) },
    );
  }
}

/** Moves the old store aside: WARDEN_HOME/replaced/<company>/<stamp>-before-migrate[.sqlite], or postgres rows renamed. */
async function archive(
  dir: string,
  company: string,
  kind: StoreKind,
  access: AuthStoreAccess,
  keys: readonly Key[],
  now: number,
): Promise<string> {
  const aside = path.join(replacedDir(access.home, company), `${formatTimestamp(now)}-before-migrate`);
  if (kind !== "files") return moveCompanyStoreAside(access, company, kind, aside);
  // Copied then unlinked (home and sessionsDir may be different file systems): the keys are safe in
  // the database already; the copy is the old folder as it was.
  await mkdir(aside, { recursive: true, mode: 0o700 });
  for (const key of keys) await writeFileAt(path.join(aside, key.name), key.data, key.at);
  await syncDir(aside);
  for (const key of keys) await unlink(path.join(dir, key.name));
  await syncDir(dir);
  return aside;
}

/** Rolls back a target written before the switch. */
async function removeTarget(
  dir: string,
  company: string,
  kind: StoreKind,
  access: AuthStoreAccess,
  written: readonly string[],
): Promise<void> {
  if (kind !== "files") return removeCompanyStore(access, company, kind);
  for (const name of written) {
    await unlink(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
  await syncDir(dir);
}

function hash(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
