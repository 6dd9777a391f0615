/**
 * `warden-auth.json` in a company folder names where its auth state lives: `{"store": "sqlite"}`.
 * Absent: the folder itself (`files`, Baileys' multi-file layout). The folder stays the company's
 * home either way (enumeration, removal, the lease); only the keys move. A file that does not
 * parse or names an unknown store is a coded error: never read as "files", which would start a
 * database company from an empty folder (a new identity).
 */
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ErrorCodes, WardenError } from "../errors.js";
import { ATOMIC_TMP_PREFIX } from "../fleet/classify-file.js";
import { syncDir } from "../fleet/sync-dir.js";
import { readRegularFile, readRegularFileSync } from "../fs/safe-read.js";

/** The file's name in a company folder. */
export const STORE_CHOICE_FILE = "warden-auth.json";

/** Where a company's auth state lives. */
export const STORE_KINDS = ["files", "sqlite", "postgres"] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

const ChoiceSchema = z.strictObject({ store: z.enum(STORE_KINDS) });

/** The store named by `dir`/warden-auth.json ("files" when there is none). */
export async function readStoreChoice(dir: string): Promise<StoreKind> {
  const file = path.join(dir, STORE_CHOICE_FILE);
  return parseChoice(file, (await readRegularFile(file))?.data ?? null);
}

/** The same, synchronously (the scanner). */
export function readStoreChoiceSync(dir: string): StoreKind {
  const file = path.join(dir, STORE_CHOICE_FILE);
  return parseChoice(file, readRegularFileSync(file)?.data ?? null);
}

function parseChoice(file: string, data: Buffer | null): StoreKind {
  if (data === null) return "files";
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw choiceError(file, `does not parse: ${(err as Error).message}`);
  }
  const parsed = ChoiceSchema.safeParse(raw);
  if (!parsed.success)
    throw choiceError(file, `expected {"store": "${STORE_KINDS.join('" | "')}"}, got ${JSON.stringify(raw)}`);
  return parsed.data.store;
}

function choiceError(file: string, why: string): WardenError {
  return new WardenError(ErrorCodes.AUTH_STORE_CHOICE, `${file} ${why}; the company is not opened`, { file });
}

/** Writes the choice atomically (temp, fsync, rename, fsync of the folder); "files" removes the file. */
export async function writeStoreChoice(dir: string, kind: StoreKind): Promise<void> {
  const file = path.join(dir, STORE_CHOICE_FILE);
  if (kind === "files") {
    await unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  } else {
    const tmp = path.join(dir, `${ATOMIC_TMP_PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify({ store: kind })}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  }
  await syncDir(dir);
}
