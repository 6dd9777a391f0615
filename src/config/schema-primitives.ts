/**
 * The leaf types of the config schema: durations, file counts, Telegram chat and user ids, the
 * maintenance window and time zone, phone numbers. Each carries the error text an operator reads.
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "./duration.js";

/** A duration string ("10m", "7d") parsed to milliseconds. */
export const duration = (what: string) =>
  z
    .string({ error: `Expected a duration string like "10m" or "7d" (${what})` })
    .regex(new RegExp(DURATION_PATTERN), {
      error: `Expected a duration like "500ms", "30s", "10m", "2h" or "7d" (${what})`,
    })
    .transform((text) => parseDuration(text) as number)
    .meta({ description: what });

/** A whole number of files >= 1 (a threshold). */
export const fileCount = (what: string) =>
  z
    .int({ error: `Expected a whole number of files (${what})` })
    .min(1, { error: `Expected a whole number of files >= 1 (${what})` })
    .meta({ description: what });

/** A Telegram chat: a numeric id (groups are negative) or an @channelusername. */
const CHAT_ID_ERROR = 'Expected a Telegram chat id: a number such as -1001234567890, or "@channelname"';
export const chatId = z.union([z.int(), z.string().regex(/^@[A-Za-z0-9_]{4,}$/, { error: CHAT_ID_ERROR })], {
  error: CHAT_ID_ERROR,
});

/** A Telegram user id (a positive number; users see theirs in the bot's refusal). */
export const telegramUserId = z
  .int({ error: "Expected a Telegram user id (a positive whole number)" })
  .min(1, {
    error: "Expected a Telegram user id (a positive whole number)",
  });

const WINDOW_RE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
/** A local time window "HH:MM-HH:MM" (may cross midnight), or null for never. */
export const maintenanceWindow = z
  .union([z.null(), z.string().regex(WINDOW_RE, { error: 'Expected a window like "03:00-05:00" or null' })])
  .meta({
    description: 'Local time window for scheduled cleanups, "HH:MM-HH:MM" (may cross midnight); null: never.',
  });
/** An IANA time zone name that this Node's Intl knows. */
export const timezone = z
  .string()
  .refine(isTimeZone, { error: 'Expected an IANA time zone such as "UTC" or "America/Sao_Paulo"' })
  .meta({ description: "IANA time zone of maintenance.window." });

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A whole number from 1 to max. */
export const positiveInt = (what: string, max: number) =>
  z
    .int({ error: `Expected a whole number (${what})` })
    .min(1, { error: `Expected a whole number >= 1 (${what})` })
    .max(max, { error: `Expected a whole number <= ${max} (${what})` })
    .meta({ description: what });

/** A phone number for pairing by code: digits with the country code. */
export const phoneNumber = z
  .string()
  .regex(/^\d{8,15}$/, { error: "Expected digits only, with the country code" });

/** A section's keys each with its default (from `config/defaults.ts`, parsed like a written value). */
type WithDefaults<S extends z.ZodRawShape> = { [K in keyof S]: z.ZodPrefault<S[K]> };

/**
 * A strict section whose every key takes its default from `defaults` and which is `{}` when absent,
 * so a default is written once (in defaults.ts) and never repeated for the section.
 */
export function withDefaults<S extends z.ZodRawShape>(
  shape: S,
  defaults: { [K in keyof S]: z.input<S[K]> },
): z.ZodPrefault<z.ZodObject<WithDefaults<S>, z.core.$strict>> {
  const keys: Record<string, z.ZodType> = {};
  for (const key of Object.keys(shape) as (keyof S & string)[]) {
    keys[key] = (shape[key] as z.ZodType).prefault(defaults[key] as never);
  }
  return z.strictObject(keys as WithDefaults<S>).prefault({} as never);
}
