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
  COMPANY_CONNECTED: "WARDEN_ERR_COMPANY_CONNECTED",
  BACKUP_INVALID: "WARDEN_ERR_BACKUP_INVALID",
  BACKUP_NOT_FOUND: "WARDEN_ERR_BACKUP_NOT_FOUND",
  ACTION_FAILED: "WARDEN_ERR_ACTION_FAILED",
  SIGNALS_GUARD_TWICE: "WARDEN_ERR_SIGNALS_GUARD_TWICE",
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

/** Exit statuses shared by every entry point (DESIGN.md contracts). */
export const ExitCodes = { OK: 0, FAILURE: 1, USAGE: 2, CONFIG: 78 } as const;

/** The exit status an error should end a process with. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof WardenError) {
    if (err.code === ErrorCodes.CONFIG_INVALID || err.code === ErrorCodes.CONFIG_UNREADABLE)
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
