/**
 * One name for a key in every store: the file name Baileys' multi-file store gives it
 * (`<type>-<id>.json` after fixFileName, `creds.json`). A database row is keyed by (type, fixed id),
 * so a name and a row map one to one, and backups, the cleanup planner and the scanner work on names
 * whatever the store.
 */
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
