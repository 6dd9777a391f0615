/**
 * `preKeyReserve: "auto"` means the installed Baileys' INITIAL_PREKEY_COUNT (812 in v7). It is read
 * from the package's Defaults file as text: importing baileys costs ~65 MB and half a second, which
 * the supervisor should not pay for one number.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ErrorCodes, WardenError } from "../errors.js";

let cached: number | undefined;

/** INITIAL_PREKEY_COUNT of the installed baileys package. */
export function baileysInitialPreKeyCount(): number {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  let file = "baileys/lib/Defaults/index.js";
  try {
    file = path.join(path.dirname(require.resolve("baileys/package.json")), "lib", "Defaults", "index.js");
    const match = /INITIAL_PREKEY_COUNT\s*=\s*(\d+)/.exec(readFileSync(file, "utf8"));
    if (!match) throw new WardenError(ErrorCodes.BAILEYS_VERSION, "INITIAL_PREKEY_COUNT not found");
    cached = Number(match[1]);
    return cached;
  } catch (err) {
    throw new WardenError(
      ErrorCodes.BAILEYS_VERSION,
      `preKeyReserve is "auto" but INITIAL_PREKEY_COUNT could not be read from ${file} (${(err as Error).message}); set preKeyReserve to a number`,
      { file },
      { cause: err },
    );
  }
}

/** The reserve in force for a setting: "auto" resolved, numbers as they are. */
export function resolvePreKeyReserve(setting: "auto" | number): number {
  return setting === "auto" ? baileysInitialPreKeyCount() : setting;
}

/** The pre-key floor of cleanup and reset (`cleanup.keepPreKeys`): "auto" resolved, numbers as they are. */
export function resolveKeepPreKeys(setting: "auto" | number): number {
  return setting === "auto" ? baileysInitialPreKeyCount() : setting;
}
