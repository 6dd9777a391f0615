/**
 * The one strict schema of wa-warden's configuration. `config/warden.json` holds global settings and
 * the per-company defaults; `config/companies/<id>.json` overrides any subset of the per-company keys.
 * Defaults live here and only here; `config/warden.schema.json` is generated from these schemas.
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "./duration.js";

/** A duration string ("10m", "7d") parsed to milliseconds. */
const duration = (what: string) =>
  z
    .string({ error: `Expected a duration string like "10m" or "7d" (${what})` })
    .regex(new RegExp(DURATION_PATTERN), {
      error: `Expected a duration like "500ms", "30s", "10m", "2h" or "7d" (${what})`,
    })
    .transform((text) => parseDuration(text) as number)
    .meta({ description: what });

const fileCount = (what: string) =>
  z
    .int({ error: `Expected a whole number of files (${what})` })
    .min(1, { error: `Expected a whole number of files >= 1 (${what})` })
    .meta({ description: what });

/** A Telegram chat: a numeric id (groups are negative) or an @channelusername. */
const CHAT_ID_ERROR = 'Expected a Telegram chat id: a number such as -1001234567890, or "@channelname"';
const chatId = z.union([z.int(), z.string().regex(/^@[A-Za-z0-9_]{4,}$/, { error: CHAT_ID_ERROR })], {
  error: CHAT_ID_ERROR,
});

const thresholdsShape = {
  monitor: fileCount("counted files at which a low-priority alert is sent"),
  warning: fileCount("counted files at which a warning is sent"),
  critical: fileCount("counted files at which a critical alert is sent and repeated"),
  fatal: fileCount("counted files considered fatal (alert repeated)"),
};

const SIMULATION_DEFAULTS = {
  connect: true,
  connectAfter: 200,
  initialPreKeys: 30,
  growPerMinute: 0,
  disconnectAfter: null,
  disconnectCode: 428,
  recover: true,
  pairAfter: null,
};

/** A phone number for pairing by code: digits with the country code. */
const phoneNumber = z.string().regex(/^\d{8,15}$/, { error: "Expected digits only, with the country code" });

/** The scenario the simulated driver follows for a company. */
const simulationSchema = z
  .strictObject({
    connect: z
      .boolean()
      .default(true)
      .meta({ description: "false: every connect fails with disconnectCode (a company that stays down)." }),
    connectAfter: duration("time from socket start to open").default(200),
    initialPreKeys: z
      .int()
      .min(0)
      .max(2_000)
      .default(30)
      .meta({ description: "Pre-keys written on first start." }),
    growPerMinute: z
      .number()
      .min(0)
      .max(6_000)
      .default(0)
      .meta({ description: "Pre-keys added per minute while open." }),
    disconnectAfter: z
      .union([z.null(), duration("time open before the simulated disconnect")])
      .default(null)
      .meta({ description: "Close the socket this long after it opened (null: never)." }),
    disconnectCode: z
      .int()
      .min(100)
      .max(999)
      .default(428)
      .meta({ description: "DisconnectReason code of that close." }),
    recover: z
      .boolean()
      .default(true)
      .meta({ description: "false: every later connect fails with the same code." }),
    pairAfter: z
      .union([z.null(), duration("time a pairing takes")])
      .default(null)
      .meta({ description: "Without creds: show QR codes, then pair after this long (null: never)." }),
  })
  .meta({ description: "Simulated driver scenario." });

/** Per-company keys as they appear in warden.json: every key has its default. */
export const companyDefaultsSchema = z.strictObject({
  thresholds: z
    .strictObject({
      monitor: thresholdsShape.monitor.default(120),
      warning: thresholdsShape.warning.default(150),
      critical: thresholdsShape.critical.default(180),
      fatal: thresholdsShape.fatal.default(200),
    })
    .default({ monitor: 120, warning: 150, critical: 180, fatal: 200 })
    .meta({
      description: "Alert levels on the counted files (every file but the newest preKeyReserve pre-keys).",
    }),
  preKeyReserve: z
    .union([z.literal("auto"), z.int().min(0)], {
      error: 'Expected "auto" or a whole number >= 0 of pre-keys left out of the count',
    })
    .default("auto")
    .meta({
      description:
        'Newest pre-keys (by id) not counted against the thresholds. "auto" = the installed Baileys\' INITIAL_PREKEY_COUNT; 0 counts every file.',
    }),
  alerts: z
    .strictObject({
      remindEvery: duration("how often critical and fatal alerts are repeated").default(3_600_000),
      hysteresis: z
        .int({ error: "Expected a whole number of files >= 0 (alerts.hysteresis)" })
        .min(0, { error: "Expected a whole number of files >= 0 (alerts.hysteresis)" })
        .default(10)
        .meta({
          description:
            "Files below a level before it is left; below monitor - hysteresis sends one resolved message.",
        }),
    })
    .default({ remindEvery: 3_600_000, hysteresis: 10 }),
  telegram: z
    .strictObject({
      chatIds: z.array(chatId).default([]).meta({ description: "Chats that receive this company's alerts." }),
    })
    .default({ chatIds: [] }),
  driver: z
    .enum(["baileys", "simulated"], { error: 'Expected "baileys" or "simulated"' })
    .default("baileys")
    .meta({
      description:
        'Connection driver: "baileys" (WhatsApp) or "simulated" (no network; WARDEN_DRIVER overrides).',
    }),
  simulation: simulationSchema.default(SIMULATION_DEFAULTS),
  pairing: z
    .strictObject({
      phoneNumber: z
        .union([z.null(), phoneNumber])
        .default(null)
        .meta({ description: "Pair by phone-number code instead of QR (digits with country code)." }),
    })
    .default({ phoneNumber: null }),
  mutedUntil: z
    .union([z.null(), z.iso.datetime({ offset: true, error: "Expected an ISO date-time or null" })])
    .default(null)
    .transform((text) => (text === null ? null : Date.parse(text)))
    .meta({ description: "No alerts for the company until this ISO date-time (null: not muted)." }),
});

/** Per-company overrides (`config/companies/<id>.json`): any subset of the company keys. */
export const companyOverrideSchema = z.strictObject({
  $schema: z.string().optional(),
  thresholds: z.strictObject(thresholdsShape).partial().optional(),
  preKeyReserve: z
    .union([z.literal("auto"), z.int().min(0)], {
      error: 'Expected "auto" or a whole number >= 0 of pre-keys left out of the count',
    })
    .optional(),
  alerts: z
    .strictObject({
      remindEvery: duration("how often critical and fatal alerts are repeated").optional(),
      hysteresis: z.int().min(0, { error: "Expected a whole number of files >= 0" }).optional(),
    })
    .optional(),
  telegram: z
    .strictObject({
      chatIds: z.array(chatId).optional().meta({ description: "Added to the global telegram.chatIds." }),
    })
    .optional(),
  driver: z.enum(["baileys", "simulated"], { error: 'Expected "baileys" or "simulated"' }).optional(),
  simulation: simulationSchema.partial().optional(),
  pairing: z
    .strictObject({
      phoneNumber: z.union([z.null(), phoneNumber]).optional(),
    })
    .optional(),
  mutedUntil: z
    .union([z.null(), z.iso.datetime({ offset: true, error: "Expected an ISO date-time or null" })])
    .transform((text) => (text === null ? null : Date.parse(text)))
    .optional(),
});

/** The whole of warden.json: global settings plus the per-company defaults. */
export const wardenFileSchema = z.strictObject({
  $schema: z.string().optional(),
  sessionsDir: z.string().min(1).default("./sessions").meta({
    description:
      "Folder whose subfolders are the companies' Baileys auth folders (relative to the working directory).",
  }),
  scan: z
    .strictObject({
      reconcileEvery: duration("full reconcile scan period, on top of file events").default(60_000),
      debounce: duration("quiet time after a file event before a folder is recounted").default(500),
    })
    .default({ reconcileEvery: 60_000, debounce: 500 }),
  history: z
    .strictObject({
      keep: duration("how long the per-company count history is kept").default(30 * 86_400_000),
    })
    .default({ keep: 30 * 86_400_000 }),
  workers: z
    .strictObject({
      instances: z.int().min(1).max(64).default(1).meta({ description: "warden-worker instances (pm2)." }),
      heartbeatEvery: duration("worker heartbeat and lease renewal period").default(5_000),
      leaseTtl: duration("a company lease lasts this long without renewal").default(30_000),
      deadAfter: duration("a worker silent this long is declared dead and restarted").default(45_000),
      controlPollEvery: duration("how often workers look for control requests").default(500),
    })
    .default({
      instances: 1,
      heartbeatEvery: 5_000,
      leaseTtl: 30_000,
      deadAfter: 45_000,
      controlPollEvery: 500,
    }),
  ...companyDefaultsSchema.shape,
});

/** warden.json after parsing (durations in ms). */
export type WardenFile = z.output<typeof wardenFileSchema>;
/** A company override file after parsing. */
export type CompanyOverride = z.output<typeof companyOverrideSchema>;
/** The per-company settings after defaults and overrides are merged. */
export type CompanySettings = z.output<typeof companyDefaultsSchema>;
