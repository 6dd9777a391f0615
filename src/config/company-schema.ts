/**
 * The per-company settings: as they appear in warden.json with every default filled in, and as
 * `config/companies/<id>.json` overrides any subset of them. Both are built from the same keys; the
 * defaults come from `defaults.ts` and only from there.
 */
import { z } from "zod";
import {
  backupsShape,
  cleanupShape,
  countBasis,
  ladderShape,
  livenessSchema,
  livenessShape,
  signalsShape,
  simulationSchema,
  simulationShape,
  thresholdsShape,
} from "./company-shapes.js";
import { COMPANY_DEFAULTS as D } from "./defaults.js";
import {
  chatId,
  duration,
  maintenanceWindow,
  phoneNumber,
  telegramUserId,
  timezone,
  withDefaults,
} from "./schema-primitives.js";

const preKeyReserve = z
  .union([z.literal("auto"), z.int().min(0)], {
    error: 'Expected "auto" or a whole number >= 0 of pre-keys left out of the count',
  })
  .meta({
    description:
      'Newest pre-keys (by id) left out of count.basis "counted" (and shown as reserve). "auto" = the installed Baileys\' INITIAL_PREKEY_COUNT; 0 counts every file. Never changes what a cleanup deletes.',
  });

/** The per-company alert keys (warden-schema.ts adds the global-only ones). */
export const alertsShape = {
  remindEvery: duration("how often critical and fatal alerts are repeated"),
  hysteresis: z
    .int({ error: "Expected a whole number of files >= 0 (alerts.hysteresis)" })
    .min(0, { error: "Expected a whole number of files >= 0 (alerts.hysteresis)" })
    .meta({
      description:
        "Files below a level before it is left; below monitor - hysteresis sends one resolved message.",
    }),
  escalateAfter: z
    .union([z.null(), duration("an incident still unacked this long is sent to telegram.escalateTo")])
    .meta({
      description:
        "An incident still unacked this long is sent once to telegram.escalateTo, with who was paged and when (null: never).",
    }),
};

const telegramShape = {
  chatIds: z.array(chatId).meta({ description: "Chats that receive this company's alerts." }),
  operators: z.array(telegramUserId).meta({
    description: "Telegram user ids that may command this company (company files only).",
  }),
};

const driver = z.enum(["baileys", "simulated"], { error: 'Expected "baileys" or "simulated"' }).meta({
  description:
    'Connection driver: "baileys" (WhatsApp) or "simulated" (no network; WARDEN_DRIVER overrides).',
});

const pairingShape = {
  phoneNumber: z
    .union([z.null(), phoneNumber])
    .meta({ description: "Pair by phone-number code instead of QR (digits with country code)." }),
  qrTtl: duration("a pairing QR or code shown in a private chat is deleted this long after it was asked for"),
};

const maintenanceShape = { window: maintenanceWindow, timezone };

const mutedUntil = z
  .union([z.null(), z.iso.datetime({ offset: true, error: "Expected an ISO date-time or null" })])
  .meta({ description: "No alerts for the company until this ISO date-time (null: not muted)." });
const toMs = (text: string | null) => (text === null ? null : Date.parse(text));

/** Per-company keys as they appear in warden.json: every key has its default. */
export const companyDefaultsSchema = z.strictObject({
  thresholds: withDefaults(thresholdsShape, D.thresholds).meta({
    description: "Alert levels on the counted files (count.basis: by default the stale files).",
  }),
  count: withDefaults({ basis: countBasis }, D.count).meta({ description: "What the thresholds count." }),
  preKeyReserve: preKeyReserve.prefault(D.preKeyReserve),
  alerts: withDefaults(alertsShape, D.alerts),
  telegram: withDefaults(telegramShape, D.telegram),
  driver: driver.prefault(D.driver),
  simulation: simulationSchema,
  pairing: withDefaults(pairingShape, D.pairing),
  cleanup: withDefaults(cleanupShape, D.cleanup).meta({
    description: "Smart cleanup rules (creds.json, app-state and lid-mapping files are never deleted).",
  }),
  ladder: withDefaults(
    {
      ...ladderShape,
      budget: withDefaults(ladderShape.budget.shape, D.ladder.budget).meta(ladderShape.budget.meta() ?? {}),
    },
    D.ladder,
  ).meta({
    description:
      "Recovery ladder: wait, warn, reconnect, then one 'human needed' alert with the evidence; a reset only with ladder.autoReset and key-state evidence; QR required only on 401.",
  }),
  maintenance: withDefaults(maintenanceShape, D.maintenance),
  backups: withDefaults(backupsShape, D.backups),
  signals: withDefaults(
    {
      alertAt: withDefaults(signalsShape.alertAt.shape, D.signals.alertAt).meta(
        signalsShape.alertAt.meta() ?? {},
      ),
      repairSessions: signalsShape.repairSessions,
      repairAfter: withDefaults(signalsShape.repairAfter.shape, D.signals.repairAfter).meta(
        signalsShape.repairAfter.meta() ?? {},
      ),
    },
    D.signals,
  ).meta({ description: "Signal health: decrypt failures, session churn, retry receipts, stream errors." }),
  liveness: livenessSchema,
  mutedUntil: mutedUntil.prefault(D.mutedUntil).transform(toMs),
});

/** Per-company overrides (`config/companies/<id>.json`): any subset of the company keys. */
export const companyOverrideSchema = z.strictObject({
  $schema: z.string().optional(),
  thresholds: z.strictObject(thresholdsShape).partial().optional(),
  count: z.strictObject({ basis: countBasis }).partial().optional(),
  preKeyReserve: preKeyReserve.optional(),
  alerts: z.strictObject(alertsShape).partial().optional(),
  telegram: z
    .strictObject({
      chatIds: telegramShape.chatIds.meta({ description: "Added to the global telegram.chatIds." }),
      operators: telegramShape.operators.meta({
        description: "Telegram user ids that may command this company from its chats.",
      }),
    })
    .partial()
    .optional(),
  driver: driver.optional(),
  simulation: z.strictObject(simulationShape).partial().optional(),
  pairing: z.strictObject(pairingShape).partial().optional(),
  cleanup: z.strictObject(cleanupShape).partial().optional(),
  ladder: z
    .strictObject({ ...ladderShape, budget: ladderShape.budget.partial() })
    .partial()
    .optional(),
  maintenance: z.strictObject(maintenanceShape).partial().optional(),
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
  mutedUntil: mutedUntil.transform(toMs).optional(),
});

/** The per-company settings after defaults and overrides are merged. */
export type CompanySettings = z.output<typeof companyDefaultsSchema>;
/** A company override file after parsing. */
export type CompanyOverride = z.output<typeof companyOverrideSchema>;
