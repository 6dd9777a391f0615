/**
 * pino logger factory. The bot token is redacted everywhere: structured paths via `redact`, and any
 * occurrence inside a message or an error (URLs carry it as /bot<token>/) via a final string pass.
 */
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/** Options for createLogger. */
export interface LoggerOptions {
  /** Component name (supervisor, cli, worker). */
  name: string;
  /** pino level; the entry passes LOG_LEVEL from env.ts (default "info"). */
  level?: string;
  /** Secrets to scrub from every line (the Telegram bot token). */
  secrets?: readonly (string | undefined)[];
  destination?: DestinationStream;
}

/** Builds the process logger; only entry files call this. */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length >= 8);
  return pino(
    {
      name: options.name,
      level: options.level ?? "info",
      redact: {
        paths: ["token", "*.token", "botToken", "*.botToken", "headers.authorization"],
        censor: "[redacted]",
      },
      hooks: secrets.length > 0 ? { streamWrite: (line) => scrubSecrets(line, secrets) } : {},
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** Replaces each secret in `text` with "[redacted]". */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
  return out;
}
