/**
 * How an error reaches the operator: the readable "Configuration error in <file>:" block, one
 * line "warden: <message>" otherwise, or with --json one JSON object on stdout with the code so a
 * script reads the failure where it reads the result.
 */
import { ConfigError, describeError, exitCodeFor, WardenError } from "../errors.js";

/** The readable text of an error (several lines for a config error). */
export function formatError(err: unknown): string {
  if (err instanceof ConfigError)
    return `Configuration error in ${String(err.context.file)}:\n${err.issues.map((i) => `  - ${i}`).join("\n")}`;
  return `warden: ${describeError(err)}`;
}

/** The JSON shape of an error for `--json`: `{ ok: false, error: { code, message, exitCode, ... } }`. */
export function errorJson(err: unknown): Record<string, unknown> {
  const code = err instanceof WardenError ? err.code : "WARDEN_ERR_UNEXPECTED";
  return {
    ok: false,
    error: {
      code,
      message: describeError(err),
      exitCode: exitCodeFor(err),
      ...(err instanceof ConfigError ? { file: err.context.file, issues: err.issues } : {}),
      ...(err instanceof WardenError && !(err instanceof ConfigError) ? { context: err.context } : {}),
    },
  };
}
