/**
 * One name for a key in every store: the file name Baileys' multi-file store gives it
 * (`<type>-<id>.json` after fixFileName, `creds.json`). A database row is keyed by (type, fixed id),
 * so a name and a row map one to one, and backups, the cleanup planner and the scanner work on names
 * whatever the store.
 */
import { ErrorCodes, WardenError } from "../errors.js";
import { type Category, classifyFile } from "../fleet/classify-file.js";

/** Where a name lives in a database store: the creds row, or a signal key (type, id). */
export type RowKey = { table: "creds"; key: "creds" } | { table: "signal_keys"; type: Category; id: string };

/** Baileys' fixFileName: "/" -> "__", ":" -> "-" (ids are stored in this form, as the folder names them). */
export function fixKeyId(id: string): string {
  return id.replace(/\//g, "__").replace(/:/g, "-");
}

/** The row of a key file name; null for a name no Baileys key has (those stay out of a database store). */
export function rowOfName(name: string): RowKey | null {
  const category = classifyFile(name);
  if (category === "creds") return { table: "creds", key: "creds" };
  if (category === "other") return null;
  const id = name.slice(category.length + 1, -".json".length);
  if (id.length === 0) return null;
  return { table: "signal_keys", type: category, id };
}

/** The file name of a signal key row. */
export function nameOfKey(type: string, id: string): string {
  return `${type}-${id}.json`;
}

/**
 * The row of `name` for a write into the store at `location`; a name no Baileys key has is refused
 * with a coded error (`detail` names the store as its callers' other errors do).
 */
export function storableRow(name: string, location: string, detail: Record<string, unknown>): RowKey {
  const key = rowOfName(name);
  if (!key)
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `${name} is not a Baileys key name: it cannot be stored in ${location}`,
      { ...detail, name },
    );
  return key;
}

/** The rows of `names` to delete from the store at `location`; creds is never deleted (invariant 14). */
export function deletableRows(
  names: readonly string[],
  location: string,
  detail: Record<string, unknown>,
): RowKey[] {
  return names.map((name) => {
    const key = storableRow(name, location, detail);
    if (key.table === "creds")
      throw new WardenError(ErrorCodes.DELETE_REFUSED, `Refusing to delete creds from ${location}`, detail);
    return key;
  });
}
