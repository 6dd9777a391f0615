/**
 * The per-company settings: as they appear in warden.json with every default filled in, and as
 * `config/companies/<id>.json` overrides any subset of them.
 */
import { z } from "zod";
import {
  BACKUPS_DEFAULTS,
  backupsShape,
  CLEANUP_DEFAULTS,
  cleanupShape,
  countBasis,
  LADDER_DEFAULTS,
  ladderShape,
  livenessSchema,
  livenessShape,
  MAINTENANCE_DEFAULTS,
  SIGNALS_DEFAULTS,
  SIMULATION_DEFAULTS,
  signalsShape,
  simulationSchema,
  simulationShape,
  thresholdsShape,
} from "./company-shapes.js";
import {
  chatId,
  duration,
  maintenanceWindow,
  phoneNumber,
  telegramUserId,
  timezone,
} from "./schema-primitives.js";

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
      description: "Alert levels on the counted files (count.basis: by default the stale files).",
    }),
  count: z
    .strictObject({ basis: countBasis.default("stale") })
    .default({ basis: "stale" })
    .meta({ description: "What the thresholds count." }),
  preKeyReserve: z
    .union([z.literal("auto"), z.int().min(0)], {
      error: 'Expected "auto" or a whole number >= 0 of pre-keys left out of the count',
    })
    .default("auto")
    .meta({
      description:
        'Newest pre-keys (by id) left out of count.basis "counted" (and shown as reserve). "auto" = the installed Baileys\' INITIAL_PREKEY_COUNT; 0 counts every file. Never changes what a cleanup deletes.',
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
      escalateAfter: z
        .union([z.null(), duration("an incident still unacked this long is sent to telegram.escalateTo")])
        .default(null)
        .meta({
          description:
            "An incident still unacked this long is sent once to telegram.escalateTo, with who was paged and when (null: never).",
        }),
    })
    .default({ remindEvery: 3_600_000, hysteresis: 10, escalateAfter: null }),
  telegram: z
    .strictObject({
      chatIds: z.array(chatId).default([]).meta({ description: "Chats that receive this company's alerts." }),
      operators: z.array(telegramUserId).default([]).meta({
        description: "Telegram user ids that may command this company (company files only).",
      }),
    })
    .default({ chatIds: [], operators: [] }),
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
      qrTtl: duration(
        "a pairing QR or code shown in a private chat is deleted this long after it was asked for",
      ).default(600_000),
    })
    .default({ phoneNumber: null, qrTtl: 600_000 }),
  cleanup: z
    .strictObject({
      keepPreKeys: cleanupShape.keepPreKeys.default(CLEANUP_DEFAULTS.keepPreKeys),
      sessionMaxAge: cleanupShape.sessionMaxAge.default(CLEANUP_DEFAULTS.sessionMaxAge),
      senderKeyMaxAge: cleanupShape.senderKeyMaxAge.default(CLEANUP_DEFAULTS.senderKeyMaxAge),
      foreignSenderKeyMaxAge: cleanupShape.foreignSenderKeyMaxAge.default(
        CLEANUP_DEFAULTS.foreignSenderKeyMaxAge,
      ),
      minAge: cleanupShape.minAge.default(CLEANUP_DEFAULTS.minAge),
    })
    .default(CLEANUP_DEFAULTS)
    .meta({
      description: "Smart cleanup rules (creds.json, app-state and lid-mapping files are never deleted).",
    }),
  ladder: z
    .strictObject({
      enabled: ladderShape.enabled.default(LADDER_DEFAULTS.enabled),
      warnAfter: ladderShape.warnAfter.default(LADDER_DEFAULTS.warnAfter),
      reconnectAfter: ladderShape.reconnectAfter.default(LADDER_DEFAULTS.reconnectAfter),
      reconnectAttempts: ladderShape.reconnectAttempts.default(LADDER_DEFAULTS.reconnectAttempts),
      reconnectBackoff: ladderShape.reconnectBackoff.default(LADDER_DEFAULTS.reconnectBackoff),
      settleFor: ladderShape.settleFor.default(LADDER_DEFAULTS.settleFor),
      budget: z
        .strictObject({
          max: ladderShape.budget.shape.max.default(LADDER_DEFAULTS.budget.max),
          window: ladderShape.budget.shape.window.default(LADDER_DEFAULTS.budget.window),
        })
        .default(LADDER_DEFAULTS.budget),
      emergencyCooldown: ladderShape.emergencyCooldown.default(LADDER_DEFAULTS.emergencyCooldown),
      minCleanupFiles: ladderShape.minCleanupFiles.default(LADDER_DEFAULTS.minCleanupFiles),
      autoReset: ladderShape.autoReset.default(LADDER_DEFAULTS.autoReset),
      maxBackoff: ladderShape.maxBackoff.default(LADDER_DEFAULTS.maxBackoff),
      stableAfter: ladderShape.stableAfter.default(LADDER_DEFAULTS.stableAfter),
      flapAlertAt: ladderShape.flapAlertAt.default(LADDER_DEFAULTS.flapAlertAt),
    })
    .default(LADDER_DEFAULTS)
    .meta({
      description:
        "Recovery ladder: wait, warn, reconnect, then one 'human needed' alert with the evidence; a reset only with ladder.autoReset and key-state evidence; QR required only on 401.",
    }),
  maintenance: z
    .strictObject({
      window: maintenanceWindow.default(MAINTENANCE_DEFAULTS.window),
      timezone: timezone.default(MAINTENANCE_DEFAULTS.timezone),
    })
    .default(MAINTENANCE_DEFAULTS),
  backups: z
    .strictObject({
      keep: backupsShape.keep.default(BACKUPS_DEFAULTS.keep),
      credsSnapshots: backupsShape.credsSnapshots.default(BACKUPS_DEFAULTS.credsSnapshots),
      maxAge: backupsShape.maxAge.default(BACKUPS_DEFAULTS.maxAge),
      every: backupsShape.every.default(BACKUPS_DEFAULTS.every),
    })
    .default(BACKUPS_DEFAULTS),
  signals: z
    .strictObject({
      alertAt: z
        .strictObject({
          count: signalsShape.alertAt.shape.count.default(SIGNALS_DEFAULTS.alertAt.count),
          window: signalsShape.alertAt.shape.window.default(SIGNALS_DEFAULTS.alertAt.window),
        })
        .default(SIGNALS_DEFAULTS.alertAt),
      repairSessions: signalsShape.repairSessions.default(SIGNALS_DEFAULTS.repairSessions),
      repairAfter: z
        .strictObject({
          count: signalsShape.repairAfter.shape.count.default(SIGNALS_DEFAULTS.repairAfter.count),
          window: signalsShape.repairAfter.shape.window.default(SIGNALS_DEFAULTS.repairAfter.window),
        })
        .default(SIGNALS_DEFAULTS.repairAfter),
    })
    .default(SIGNALS_DEFAULTS)
    .meta({ description: "Signal health: decrypt failures, session churn, retry receipts, stream errors." }),
  liveness: livenessSchema,
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
  count: z.strictObject({ basis: countBasis }).partial().optional(),
  preKeyReserve: z
    .union([z.literal("auto"), z.int().min(0)], {
      error: 'Expected "auto" or a whole number >= 0 of pre-keys left out of the count',
    })
    .optional(),
  alerts: z
    .strictObject({
      remindEvery: duration("how often critical and fatal alerts are repeated").optional(),
      hysteresis: z.int().min(0, { error: "Expected a whole number of files >= 0" }).optional(),
      escalateAfter: z
        .union([z.null(), duration("an incident still unacked this long is sent to telegram.escalateTo")])
        .optional(),
    })
    .optional(),
  telegram: z
    .strictObject({
      chatIds: z.array(chatId).optional().meta({ description: "Added to the global telegram.chatIds." }),
      operators: z
        .array(telegramUserId)
        .optional()
        .meta({ description: "Telegram user ids that may command this company from its chats." }),
    })
    .optional(),
  driver: z.enum(["baileys", "simulated"], { error: 'Expected "baileys" or "simulated"' }).optional(),
  // Not simulationSchema.partial(): its defaults would fill every key the override leaves out.
  simulation: z.strictObject(simulationShape).partial().optional(),
  pairing: z
    .strictObject({
      phoneNumber: z.union([z.null(), phoneNumber]).optional(),
      qrTtl: duration(
        "a pairing QR shown in a private chat is deleted this long after it was asked for",
      ).optional(),
    })
    .optional(),
  cleanup: z.strictObject(cleanupShape).partial().optional(),
  ladder: z
    .strictObject({ ...ladderShape, budget: ladderShape.budget.partial() })
    .partial()
    .optional(),
  maintenance: z.strictObject({ window: maintenanceWindow, timezone }).partial().optional(),
  backups: z.strictObject(backupsShape).partial().optional(),
  signals: z
    .strictObject({
      alertAt: signalsShape.alertAt.partial(),
      repairSessions: signalsShape.repairSessions,
      repairAfter: signalsShape.repairAfter.partial(),
    })
    .partial()
    .optional(),
  liveness: z.strictObject(livenessShape).partial().optional(),
  mutedUntil: z
    .union([z.null(), z.iso.datetime({ offset: true, error: "Expected an ISO date-time or null" })])
    .transform((text) => (text === null ? null : Date.parse(text)))
    .optional(),
});

/** The per-company settings after defaults and overrides are merged. */
export type CompanySettings = z.output<typeof companyDefaultsSchema>;
/** A company override file after parsing. */
export type CompanyOverride = z.output<typeof companyOverrideSchema>;
