/**
 * Every error wa-warden raises on purpose: a stable code, a readonly context and an optional cause.
 * The CLI maps codes to exit statuses (`EXIT_STATUS_BY_CODE`), the bot to one-line replies
 * (src/bot/error-replies.ts), the supervisor logs them.
 */

/**
 * Stable error codes, `WARDEN_ERR_<AREA>_<WHAT>`: one per failure, each documented here. The CLI's
 * exit status of each is in `EXIT_STATUS_BY_CODE` below, the bot's one-line reply in
 * src/bot/error-replies.ts; test/error-codes.test.ts checks that all three list every code.
 */
export const ErrorCodes = {
  /** A config file (warden.yaml, companies/*.yaml) breaks its schema; `issues` lists every problem. */
  CONFIG_INVALID: "WARDEN_ERR_CONFIG_INVALID",
  /** A config file is missing or cannot be read or parsed. */
  CONFIG_UNREADABLE: "WARDEN_ERR_CONFIG_UNREADABLE",
  /** A company id that is not `[a-z0-9-]` or would leave sessionsDir. */
  COMPANY_ID_INVALID: "WARDEN_ERR_COMPANY_ID_INVALID",
  /** A well-formed company id with no company folder (or one that is not a real folder). */
  COMPANY_UNKNOWN: "WARDEN_ERR_COMPANY_UNKNOWN",
  /** warden.db fails its integrity check or is not a wa-warden database. */
  STORE_CORRUPT: "WARDEN_ERR_STORE_CORRUPT",
  /** warden.db's schema is newer than this build, or a migration failed. */
  STORE_MIGRATION: "WARDEN_ERR_STORE_MIGRATION",
  /** The installed Baileys is not the version wa-warden was built against. */
  BAILEYS_VERSION: "WARDEN_ERR_BAILEYS_VERSION",
  /** A notifier channel name the config does not know. */
  NOTIFIER_UNKNOWN: "WARDEN_ERR_NOTIFIER_UNKNOWN",
  /** A command line that does not parse: unknown command or flag, missing or extra argument. */
  USAGE: "WARDEN_ERR_USAGE",
  /** No worker acknowledged a control request (start, stop, pair) in time; nothing was touched. */
  CONTROL_TIMEOUT: "WARDEN_ERR_CONTROL_TIMEOUT",
  /** A worker answered a control request with a failure. */
  CONTROL_FAILED: "WARDEN_ERR_CONTROL_FAILED",
  /** Waiting for a control request was given up (the caller is shutting down). */
  CONTROL_ABORTED: "WARDEN_ERR_CONTROL_ABORTED",
  /** A worker holds the company (connected or reconnecting): a change to its folder is refused. */
  COMPANY_CONNECTED: "WARDEN_ERR_COMPANY_CONNECTED",
  /** A backup that fails verification (or lacks what the action needs from it). */
  BACKUP_INVALID: "WARDEN_ERR_BACKUP_INVALID",
  /** No backup of that name, or none at all, for the company. */
  BACKUP_NOT_FOUND: "WARDEN_ERR_BACKUP_NOT_FOUND",
  /** A company folder holds a file named like the backup manifest: backing it up would shadow it. */
  BACKUP_NAME_CLASH: "WARDEN_ERR_BACKUP_NAME_CLASH",
  /** Writing a backup failed on the file system (ENOSPC, EIO...); the message names the step and file. */
  BACKUP_WRITE_FAILED: "WARDEN_ERR_BACKUP_WRITE_FAILED",
  /** A backup of the same name already exists: it is never replaced. */
  BACKUP_EXISTS: "WARDEN_ERR_BACKUP_EXISTS",
  /** A file's name or size does not fit a tar header: the backup is not written. */
  BACKUP_ENTRY_UNENCODABLE: "WARDEN_ERR_BACKUP_ENTRY_UNENCODABLE",
  /** A deletion of creds or app-state keys was asked for: refused at the last line (invariant 14). */
  DELETE_REFUSED: "WARDEN_ERR_DELETE_REFUSED",
  /** A company folder disappeared while an action held it. */
  FOLDER_VANISHED: "WARDEN_ERR_FOLDER_VANISHED",
  /** WARDEN_HOME is not set where backups, restores or removals need it. */
  HOME_UNSET: "WARDEN_ERR_HOME_UNSET",
  /** A bot confirmation row names an operation this build does not carry out. */
  CONFIRMATION_UNKNOWN: "WARDEN_ERR_CONFIRMATION_UNKNOWN",
  /** A failure with no code of its own: kept for what is truly unexpected, thrown nowhere on purpose. */
  ACTION_FAILED: "WARDEN_ERR_ACTION_FAILED",
  /** An alert channel is used without its settings (a Telegram notifier without a token). */
  NOTIFIER_UNCONFIGURED: "WARDEN_ERR_NOTIFIER_UNCONFIGURED",
  /** Another holder (an action, or another worker) holds the company's lease: it is busy. */
  LEASE_HELD: "WARDEN_ERR_LEASE_HELD",
  /** A pairing was asked for a company that is already paired (a new pairing is a separate action). */
  COMPANY_PAIRED: "WARDEN_ERR_COMPANY_PAIRED",
  /** A company's auth state cannot be used (creds missing beside keys, unparsable keys). */
  AUTH_STATE_INVALID: "WARDEN_ERR_AUTH_STATE_INVALID",
  /** A session found its company folder gone: it never creates one (a removal stays a removal). */
  COMPANY_FOLDER_MISSING: "WARDEN_ERR_COMPANY_FOLDER_MISSING",
  // Hostile files, failing disks (invariants 2 and 15).
  /** A file that is not read: a symlink, a FIFO, a device, too large or unreadable. */
  FILE_REFUSED: "WARDEN_ERR_FILE_REFUSED",
  /** creds.json cannot be read or parsed. */
  CREDS_UNREADABLE: "WARDEN_ERR_CREDS_UNREADABLE",
  /** A stored creds snapshot cannot be opened (wrong key, altered bytes, no key). */
  SNAPSHOT_UNSEAL: "WARDEN_ERR_SNAPSHOT_UNSEAL",
  /** An alert could not be delivered (retry, migrated chat, or refused). */
  ALERT_DELIVERY: "WARDEN_ERR_ALERT_DELIVERY",
  /** The HTTP side cannot listen on its address. */
  HTTP_LISTEN: "WARDEN_ERR_HTTP_LISTEN",
  /** The signal guard was installed twice in one process. */
  SIGNALS_GUARD_TWICE: "WARDEN_ERR_SIGNALS_GUARD_TWICE",
  // Trust boundaries: who may receive a QR, secrets read from files.
  /** A Telegram user or chat that is not allowed what it asked for (a QR, a command). */
  BOT_NOT_ALLOWED: "WARDEN_ERR_BOT_NOT_ALLOWED",
  /** A secret file (`*_FILE`) that is missing, unreadable, empty or readable by others. */
  SECRET_FILE: "WARDEN_ERR_SECRET_FILE",
  // Auth state in a database (sqlite): the key, a row that fails authentication, the store gone.
  /** warden-auth.json is unreadable or names an unknown store. */
  AUTH_STORE_CHOICE: "WARDEN_ERR_AUTH_STORE_CHOICE",
  /** A database store without its key, or with the wrong one. */
  AUTH_STORE_KEY: "WARDEN_ERR_AUTH_STORE_KEY",
  /** A row of a database store fails authentication (altered bytes). */
  AUTH_STORE_TAMPERED: "WARDEN_ERR_AUTH_STORE_TAMPERED",
  /** A database store is gone or cannot be opened or written. */
  AUTH_STORE_UNAVAILABLE: "WARDEN_ERR_AUTH_STORE_UNAVAILABLE",
  /** `warden auth migrate` failed (and rolled back). */
  AUTH_MIGRATE_FAILED: "WARDEN_ERR_AUTH_MIGRATE_FAILED",
} as const;

/** One of the codes above. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class: `code` is stable, `context` carries the file/key/company at fault. */
export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WardenError";
    this.code = code;
    this.context = Object.freeze({ ...context });
  }
}

/** A configuration file is missing, unreadable or invalid; `issues` lists every problem found. */
export class ConfigError extends WardenError {
  readonly issues: readonly string[];

  constructor(code: ErrorCode, file: string, issues: readonly string[], options?: { cause?: unknown }) {
    super(code, `${file}: ${issues.join("; ")}`, { file }, options);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/**
 * A file in a company folder (or a backup) that is not read: a symlink, a FIFO, a device, too large,
 * or unreadable. `reason` says which, in words ("a FIFO (named pipe)"); the message names the file.
 */
export class FileRefusedError extends WardenError {
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(ErrorCodes.FILE_REFUSED, `${file} is ${reason}: not read`, { file, reason }, options);
    this.name = "FileRefusedError";
    this.file = file;
    this.reason = reason;
  }
}

/** A backup that failed verification; `problems` lists every reason (the message shows ten). */
export class BackupInvalidError extends WardenError {
  readonly file: string;
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    const shown = problems.slice(0, 10).join("; ");
    const more = problems.length > 10 ? `; and ${problems.length - 10} more` : "";
    super(ErrorCodes.BACKUP_INVALID, `Backup ${file} failed verification: ${shown}${more}`, {
      file,
      problems,
    });
    this.name = "BackupInvalidError";
    this.file = file;
    this.problems = problems;
  }
}

/** What unsealing needs to name a snapshot in an error. */
export interface SnapshotRef {
  id: number;
  company: string;
  file: string;
}

/** A stored creds snapshot that cannot be turned back into its file (wrong key, altered bytes, no key). */
export class SnapshotUnsealError extends WardenError {
  readonly company: string;
  readonly file: string;
  readonly snapshotId: number;

  constructor(row: SnapshotRef, why: string, options?: { cause?: unknown }) {
    super(
      ErrorCodes.SNAPSHOT_UNSEAL,
      `Snapshot #${row.id} of ${row.company}/${row.file} cannot be opened: ${why}`,
      { company: row.company, file: row.file, snapshotId: row.id },
      options,
    );
    this.name = "SnapshotUnsealError";
    this.company = row.company;
    this.file = row.file;
    this.snapshotId = row.id;
  }
}

/** How a failed alert delivery should be handled. */
export type DeliveryFailure =
  | { kind: "retry"; retryAfterMs?: number; reason: string }
  | { kind: "migrate"; newTarget: string; reason: string }
  | { kind: "refused"; reason: string };

/** Thrown by notifiers; the dispatcher reads `failure` (retry, follow a migrated chat, or give up). */
export class DeliveryError extends WardenError {
  readonly failure: DeliveryFailure;

  constructor(failure: DeliveryFailure, options?: { cause?: unknown }) {
    super(ErrorCodes.ALERT_DELIVERY, failure.reason, { kind: failure.kind }, options);
    this.name = "DeliveryError";
    this.failure = failure;
  }
}

/** Exit statuses shared by every entry point (DESIGN.md contracts). */
export const ExitCodes = { OK: 0, FAILURE: 1, USAGE: 2, CONFIG: 78 } as const;

/**
 * The CLI's exit status of each code (DESIGN.md contracts): a config problem 78, bad input 2, any
 * other failure 1. Keyed by the names of ErrorCodes, so a new code does not compile without a row.
 */
export const EXIT_STATUS_BY_CODE: Readonly<Record<keyof typeof ErrorCodes, number>> = {
  CONFIG_INVALID: ExitCodes.CONFIG,
  CONFIG_UNREADABLE: ExitCodes.CONFIG,
  COMPANY_ID_INVALID: ExitCodes.USAGE,
  COMPANY_UNKNOWN: ExitCodes.FAILURE,
  STORE_CORRUPT: ExitCodes.FAILURE,
  STORE_MIGRATION: ExitCodes.FAILURE,
  BAILEYS_VERSION: ExitCodes.FAILURE,
  NOTIFIER_UNKNOWN: ExitCodes.FAILURE,
  USAGE: ExitCodes.USAGE,
  CONTROL_TIMEOUT: ExitCodes.FAILURE,
  CONTROL_FAILED: ExitCodes.FAILURE,
  CONTROL_ABORTED: ExitCodes.FAILURE,
  COMPANY_CONNECTED: ExitCodes.FAILURE,
  BACKUP_INVALID: ExitCodes.FAILURE,
  BACKUP_NOT_FOUND: ExitCodes.FAILURE,
  BACKUP_NAME_CLASH: ExitCodes.FAILURE,
  BACKUP_WRITE_FAILED: ExitCodes.FAILURE,
  BACKUP_EXISTS: ExitCodes.FAILURE,
  BACKUP_ENTRY_UNENCODABLE: ExitCodes.FAILURE,
  DELETE_REFUSED: ExitCodes.FAILURE,
  FOLDER_VANISHED: ExitCodes.FAILURE,
  HOME_UNSET: ExitCodes.FAILURE,
  CONFIRMATION_UNKNOWN: ExitCodes.FAILURE,
  ACTION_FAILED: ExitCodes.FAILURE,
  NOTIFIER_UNCONFIGURED: ExitCodes.FAILURE,
  LEASE_HELD: ExitCodes.FAILURE,
  COMPANY_PAIRED: ExitCodes.FAILURE,
  AUTH_STATE_INVALID: ExitCodes.FAILURE,
  COMPANY_FOLDER_MISSING: ExitCodes.FAILURE,
  FILE_REFUSED: ExitCodes.FAILURE,
  CREDS_UNREADABLE: ExitCodes.FAILURE,
  SNAPSHOT_UNSEAL: ExitCodes.FAILURE,
  ALERT_DELIVERY: ExitCodes.FAILURE,
  HTTP_LISTEN: ExitCodes.FAILURE,
  SIGNALS_GUARD_TWICE: ExitCodes.FAILURE,
  BOT_NOT_ALLOWED: ExitCodes.FAILURE,
  SECRET_FILE: ExitCodes.CONFIG,
  AUTH_STORE_CHOICE: ExitCodes.FAILURE,
  AUTH_STORE_KEY: ExitCodes.FAILURE,
  AUTH_STORE_TAMPERED: ExitCodes.FAILURE,
  AUTH_STORE_UNAVAILABLE: ExitCodes.FAILURE,
  AUTH_MIGRATE_FAILED: ExitCodes.FAILURE,
};

/** The exit status an error should end a process with. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof WardenError)) return ExitCodes.FAILURE;
  return EXIT_STATUS_BY_CODE[codeName(err.code)];
}

/** The name of a code in ErrorCodes ("WARDEN_ERR_LEASE_HELD" → "LEASE_HELD"). */
export function codeName(code: ErrorCode): keyof typeof ErrorCodes {
  return code.slice("WARDEN_ERR_".length) as keyof typeof ErrorCodes;
}

/** A readable one-line description of anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
