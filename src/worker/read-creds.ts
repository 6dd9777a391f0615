/** Reads creds.json for facts the worker needs before opening a socket. It never writes it. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describeError, ErrorCodes, WardenError } from "../errors.js";

/** True when the folder's creds.json exists and says the device is registered (paired). */
export async function readCredsRegistered(dir: string): Promise<boolean> {
  try {
    const creds = JSON.parse(await readFile(path.join(dir, "creds.json"), "utf8")) as {
      registered?: boolean;
      me?: unknown;
    };
    return creds.registered === true || (creds.me !== undefined && creds.me !== null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new WardenError(
      ErrorCodes.AUTH_STATE_UNREADABLE,
      `creds.json in ${dir} cannot be read: ${describeError(err)}`,
      { file: path.join(dir, "creds.json") },
      { cause: err },
    );
  }
}
