/**
 * The bot's one-line answer to each error code: the same table for commands, buttons and confirmed
 * actions. Most codes answer with the error's own message (paths are hidden afterwards by
 * reply.ts); the rows below that differ say what a chat user can do, without CLI flags or folder
 * paths. Plain text: the caller escapes it.
 */
import { codeName, describeError, type ErrorCodes, WardenError } from "../errors.js";

type ReplyOf = (err: WardenError) => string;

/** The error's own message, first line only (a reply is one line). */
const own: ReplyOf = (err) => err.message.split("\n")[0] ?? err.message;
const company = (err: WardenError): string => String(err.context.company ?? "the company");

/** The answer to each code. Keyed by the names of ErrorCodes: a new code does not compile without a row. */
export const BOT_ERROR_REPLIES: Readonly<Record<keyof typeof ErrorCodes, ReplyOf>> = {
  CONFIG_INVALID: own,
  CONFIG_UNREADABLE: own,
  COMPANY_ID_INVALID: own,
  COMPANY_UNKNOWN: (err) =>
    err.context.missing === true ? `Unknown company ${JSON.stringify(company(err))}` : own(err),
  STORE_CORRUPT: own,
  STORE_MIGRATION: own,
  BAILEYS_VERSION: own,
  NOTIFIER_UNKNOWN: own,
  // `bare`: the message without its command-line flag (a chat has no flags).
  USAGE: (err) => (typeof err.context.bare === "string" ? err.context.bare : own(err)),
  CONTROL_TIMEOUT: own,
  CONTROL_FAILED: own,
  CONTROL_ABORTED: own,
  COMPANY_CONNECTED: own,
  BACKUP_INVALID: own,
  BACKUP_NOT_FOUND: own,
  BACKUP_NAME_CLASH: own,
  BACKUP_WRITE_FAILED: own,
  BACKUP_EXISTS: own,
  BACKUP_ENTRY_UNENCODABLE: own,
  DELETE_REFUSED: own,
  FOLDER_VANISHED: own,
  HOME_UNSET: () => "backups are not available: WARDEN_HOME is not set",
  CONFIRMATION_UNKNOWN: () => "This button belongs to an operation this version does not know; ask again.",
  ACTION_FAILED: own,
  NOTIFIER_UNCONFIGURED: own,
  LEASE_HELD: own,
  COMPANY_PAIRED: own,
  AUTH_STATE_INVALID: own,
  COMPANY_FOLDER_MISSING: own,
  FILE_REFUSED: own,
  CREDS_UNREADABLE: own,
  SNAPSHOT_UNSEAL: own,
  ALERT_DELIVERY: own,
  HTTP_LISTEN: own,
  SIGNALS_GUARD_TWICE: own,
  BOT_NOT_ALLOWED: own,
  SECRET_FILE: own,
  AUTH_STORE_CHOICE: own,
  AUTH_STORE_KEY: own,
  AUTH_STORE_TAMPERED: own,
  AUTH_STORE_UNAVAILABLE: own,
  AUTH_MIGRATE_FAILED: own,
};

/** The one-line answer to anything thrown (plain text). */
export function errorReply(err: unknown): string {
  if (!(err instanceof WardenError)) return describeError(err);
  return BOT_ERROR_REPLIES[codeName(err.code)](err);
}
