/**
 * Every error wa-warden raises on purpose: a stable code, a readonly context and an optional cause.
 * The CLI maps codes to exit statuses (see `exitCodeFor`), the supervisor logs them.
 */

/** Stable error codes, `WARDEN_ERR_<AREA>_<WHAT>`. */
export const ErrorCodes = {
  CONFIG_INVALID: "WARDEN_ERR_CONFIG_INVALID",
  CONFIG_UNREADABLE: "WARDEN_ERR_CONFIG_UNREADABLE",
  COMPANY_ID_INVALID: "WARDEN_ERR_COMPANY_ID_INVALID",
  COMPANY_UNKNOWN: "WARDEN_ERR_COMPANY_UNKNOWN",
  STORE_CORRUPT: "WARDEN_ERR_STORE_CORRUPT",
  STORE_MIGRATION: "WARDEN_ERR_STORE_MIGRATION",
  BAILEYS_VERSION: "WARDEN_ERR_BAILEYS_VERSION",
  NOTIFIER_UNKNOWN: "WARDEN_ERR_NOTIFIER_UNKNOWN",
  USAGE: "WARDEN_ERR_USAGE",
  CONTROL_TIMEOUT: "WARDEN_ERR_CONTROL_TIMEOUT",
  CONTROL_FAILED: "WARDEN_ERR_CONTROL_FAILED",
  CONTROL_ABORTED: "WARDEN_ERR_CONTROL_ABORTED",
  COMPANY_CONNECTED: "WARDEN_ERR_COMPANY_CONNECTED",
  BACKUP_INVALID: "WARDEN_ERR_BACKUP_INVALID",
  BACKUP_NOT_FOUND: "WARDEN_ERR_BACKUP_NOT_FOUND",
  ACTION_FAILED: "WARDEN_ERR_ACTION_FAILED",
  NOTIFIER_UNCONFIGURED: "WARDEN_ERR_NOTIFIER_UNCONFIGURED",
  LEASE_HELD: "WARDEN_ERR_LEASE_HELD",
  COMPANY_PAIRED: "WARDEN_ERR_COMPANY_PAIRED",
  AUTH_STATE_INVALID: "WARDEN_ERR_AUTH_STATE_INVALID",
  /** A session found its company folder gone: it never creates one (a removal stays a removal). */
  COMPANY_FOLDER_MISSING: "WARDEN_ERR_COMPANY_FOLDER_MISSING",
  // Hostile files, failing disks (invariants 2 and 15).
  FILE_REFUSED: "WARDEN_ERR_FILE_REFUSED",
  CREDS_UNREADABLE: "WARDEN_ERR_CREDS_UNREADABLE",
  SNAPSHOT_UNSEAL: "WARDEN_ERR_SNAPSHOT_UNSEAL",
  ALERT_DELIVERY: "WARDEN_ERR_ALERT_DELIVERY",
  HTTP_LISTEN: "WARDEN_ERR_HTTP_LISTEN",
  SIGNALS_GUARD_TWICE: "WARDEN_ERR_SIGNALS_GUARD_TWICE",
  // Trust boundaries: who may receive a QR, secrets read from files.
  BOT_NOT_ALLOWED: "WARDEN_ERR_BOT_NOT_ALLOWED",
  SECRET_FILE: "WARDEN_ERR_SECRET_FILE",
  // Auth state in a database (sqlite): the key, a row that fails authentication, the store gone.
  AUTH_STORE_CHOICE: "WARDEN_ERR_AUTH_STORE_CHOICE",
  AUTH_STORE_KEY: "WARDEN_ERR_AUTH_STORE_KEY",
  AUTH_STORE_TAMPERED: "WARDEN_ERR_AUTH_STORE_TAMPERED",
  AUTH_STORE_UNAVAILABLE: "WARDEN_ERR_AUTH_STORE_UNAVAILABLE",
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

/** The exit status an error should end a process with. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof WardenError) {
    if (
      err.code === ErrorCodes.CONFIG_INVALID ||
      err.code === ErrorCodes.CONFIG_UNREADABLE ||
      err.code === ErrorCodes.SECRET_FILE
    )
      return ExitCodes.CONFIG;
    if (err.code === ErrorCodes.USAGE || err.code === ErrorCodes.COMPANY_ID_INVALID) return ExitCodes.USAGE;
  }
  return ExitCodes.FAILURE;
}

/** A readable one-line description of anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
