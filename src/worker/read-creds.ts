/** Reads creds.json for facts the worker needs before opening a socket. It never writes it. */
import path from "node:path";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { readRegularFile } from "../fs/safe-read.js";

/**
 * True when the folder's creds.json exists and says the device is registered (paired). A creds.json
 * that is a symlink, a FIFO or does not parse throws: never followed, never waited on.
 */
export async function readCredsRegistered(dir: string): Promise<boolean> {
  const file = path.join(dir, "creds.json");
  const read = await readRegularFile(file);
  if (!read) return false;
  let creds: { registered?: boolean; me?: unknown } | null;
  try {
    creds = JSON.parse(read.data.toString("utf8")) as { registered?: boolean; me?: unknown } | null;
  } catch (err) {
    throw new WardenError(
      ErrorCodes.CREDS_UNREADABLE,
      `creds.json in ${dir} cannot be read: ${describeError(err)}`,
      { file },
      { cause: err },
    );
  }
  return creds?.registered === true || (creds?.me !== undefined && creds?.me !== null);
}
