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

/** A Telegram user id (a positive number; users see theirs in the bot's refusal). */
const telegramUserId = z.int({ error: "Expected a Telegram user id (a positive whole number)" }).min(1, {
  error: "Expected a Telegram user id (a positive whole number)",
});

/** A local time window "HH:MM-HH:MM" (may cross midnight). */
const WINDOW_RE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const maintenanceWindow = z
  .union([z.null(), z.string().regex(WINDOW_RE, { error: 'Expected a window like "03:00-05:00" or null' })])
  .meta({
    description: 'Local time window for scheduled cleanups, "HH:MM-HH:MM" (may cross midnight); null: never.',
  });
const timezone = z
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

const positiveInt = (what: string, max: number) =>
  z
    .int({ error: `Expected a whole number (${what})` })
    .min(1, { error: `Expected a whole number >= 1 (${what})` })
    .max(max, { error: `Expected a whole number <= ${max} (${what})` })
    .meta({ description: what });

const cleanupShape = {
  keepPreKeys: z
    .union([z.literal("auto"), z.int().min(1)], {
      error: 'Expected "auto" or a whole number >= 1 of newest pre-keys always kept (cleanup.keepPreKeys)',
    })
    .meta({
      description:
        'Newest pre-keys always kept by cleanup and reset, apart from counting. "auto" = the installed Baileys\' INITIAL_PREKEY_COUNT (812): WhatsApp may still hand any of them out. The newest id is always kept.',
    }),
  sessionMaxAge: duration("sessions untouched this long may be deleted"),
  senderKeyMaxAge: duration("our own sender keys older than this may be deleted (Baileys re-sends them)"),
  foreignSenderKeyMaxAge: duration(
    "other members' sender keys older than this may be deleted (their next group message then needs a retry)",
  ),
  minAge: duration("nothing younger than this is deleted unless forced"),
};
const CLEANUP_DEFAULTS = {
  keepPreKeys: "auto" as const,
  sessionMaxAge: 14 * 86_400_000,
  senderKeyMaxAge: 3 * 86_400_000,
  foreignSenderKeyMaxAge: 30 * 86_400_000,
  minAge: 7 * 86_400_000,
};
/** What `files.counted` (the number the thresholds apply to) means for a company. */
const countBasis = z
  .enum(["stale", "counted", "total"], { error: 'Expected "stale", "counted" or "total" (count.basis)' })
  .meta({
    description:
      'Files the thresholds apply to: "stale" (files a cleanup would delete now), "counted" (every file but the newest preKeyReserve pre-keys), "total" (ls | wc -l).',
  });

const ladderShape = {
  enabled: z.boolean().meta({
    description: "false: the ladder does nothing for this company (file-count alerts still go out).",
  }),
  warnAfter: duration("disconnected this long: warning alert"),
  reconnectAfter: duration("disconnected this long: reconnect request"),
  reconnectAttempts: positiveInt("reconnect requests before the ladder goes further", 20),
  reconnectBackoff: duration("wait after the first reconnect request; doubles after each one"),
  settleFor: duration("time a cleanup or reset is given to bring the company back"),
  budget: z
    .strictObject({
      max: positiveInt("automatic actions per company within budget.window", 1_000),
      window: duration("the budget's sliding window"),
    })
    .meta({
      description:
        "Past max automatic actions in the window: one 'human needed' alert, then the ladder stops acting for the company until it recovers.",
    }),
  emergencyCooldown: duration("minimum time between two emergency cleanups of a connected company"),
  minCleanupFiles: z
    .int({ error: "Expected a whole number of files >= 0 (ladder.minCleanupFiles)" })
    .min(0, { error: "Expected a whole number of files >= 0 (ladder.minCleanupFiles)" })
    .meta({
      description:
        "A connected company is stopped for a cleanup only when the plan deletes at least this many files and takes it below the level that triggered it.",
    }),
};
const LADDER_DEFAULTS = {
  enabled: true,
  warnAfter: 10 * 60_000,
  reconnectAfter: 15 * 60_000,
  reconnectAttempts: 3,
  reconnectBackoff: 2 * 60_000,
  settleFor: 5 * 60_000,
  budget: { max: 6, window: 6 * 3_600_000 },
  emergencyCooldown: 3_600_000,
  minCleanupFiles: 20,
};
const MAINTENANCE_DEFAULTS = { window: "03:00-05:00", timezone: "UTC" };
const BACKUPS_DEFAULTS = { keep: 5, credsSnapshots: 10 };
const backupsShape = {
  keep: positiveInt("backups kept per company", 1_000),
  credsSnapshots: positiveInt("versions of creds.json and of each app-state key kept in SQLite", 1_000),
};

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
  decryptFailuresPerMinute: 0,
  decryptReason: "Bad MAC",
};

/** A phone number for pairing by code: digits with the country code. */
const phoneNumber = z.string().regex(/^\d{8,15}$/, { error: "Expected digits only, with the country code" });

/** The scenario the simulated driver follows for a company. */
/** The simulated driver's keys, without defaults (overrides must not reset keys they do not name). */
const simulationShape = {
  connect: z
    .boolean()
    .meta({ description: "false: every connect fails with disconnectCode (a company that stays down)." }),
  connectAfter: duration("time from socket start to open"),
  initialPreKeys: z.int().min(0).max(2_000).meta({ description: "Pre-keys written on first start." }),
  growPerMinute: z.number().min(0).max(6_000).meta({ description: "Pre-keys added per minute while open." }),
  disconnectAfter: z
    .union([z.null(), duration("time open before the simulated disconnect")])
    .meta({ description: "Close the socket this long after it opened (null: never)." }),
  disconnectCode: z.int().min(100).max(999).meta({ description: "DisconnectReason code of that close." }),
  recover: z.boolean().meta({ description: "false: every later connect fails with the same code." }),
  pairAfter: z
    .union([z.null(), duration("time a pairing takes")])
    .meta({ description: "Without creds: show QR codes, then pair after this long (null: never)." }),
  decryptFailuresPerMinute: z
    .number()
    .min(0)
    .max(60_000)
    .meta({ description: "Messages per minute that fail to decrypt while open (a Bad MAC storm)." }),
  decryptReason: z.string().min(1).meta({
    description: 'Error text of those failures, as libsignal throws it ("Bad MAC", "No session record"...).',
  }),
};

/** The simulated driver's scenario with every default (warden.json). */
const simulationSchema = z
  .strictObject({
    connect: simulationShape.connect.default(SIMULATION_DEFAULTS.connect),
    connectAfter: simulationShape.connectAfter.default(SIMULATION_DEFAULTS.connectAfter),
    initialPreKeys: simulationShape.initialPreKeys.default(SIMULATION_DEFAULTS.initialPreKeys),
    growPerMinute: simulationShape.growPerMinute.default(SIMULATION_DEFAULTS.growPerMinute),
    disconnectAfter: simulationShape.disconnectAfter.default(SIMULATION_DEFAULTS.disconnectAfter),
    disconnectCode: simulationShape.disconnectCode.default(SIMULATION_DEFAULTS.disconnectCode),
    recover: simulationShape.recover.default(SIMULATION_DEFAULTS.recover),
    pairAfter: simulationShape.pairAfter.default(SIMULATION_DEFAULTS.pairAfter),
    decryptFailuresPerMinute: simulationShape.decryptFailuresPerMinute.default(
      SIMULATION_DEFAULTS.decryptFailuresPerMinute,
    ),
    decryptReason: simulationShape.decryptReason.default(SIMULATION_DEFAULTS.decryptReason),
  })
  .meta({ description: "Simulated driver scenario." });

const SIGNALS_DEFAULTS = {
  alertAt: { count: 20, window: 10 * 60_000 },
  repairSessions: false,
  repairAfter: { count: 10, window: 10 * 60_000 },
};
const signalsShape = {
  alertAt: z
    .strictObject({
      count: positiveInt("decrypt failures within signals.alertAt.window that raise the alert", 1_000_000),
      window: duration("the decrypt-failure alert's window"),
    })
    .meta({
      description:
        "Decrypt failures (Bad MAC, No session record, Invalid PreKey ID...) in the window that raise one alert; one resolved message when the rate falls back.",
    }),
  repairSessions: z.boolean().meta({
    description:
      "Opt-in: a peer failing with Bad MAC repairAfter.count times in repairAfter.window gets only its session files backed up and removed (once per peer per day).",
  }),
  repairAfter: z
    .strictObject({
      count: positiveInt("Bad MAC failures of one peer that call for a session repair", 1_000_000),
      window: duration("the session repair's window"),
    })
    .meta({ description: "Per-peer Bad MAC threshold of repairSessions." }),
};

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
    })
    .default({ remindEvery: 3_600_000, hysteresis: 10 }),
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
    })
    .default({ phoneNumber: null }),
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
    })
    .default(LADDER_DEFAULTS)
    .meta({
      description:
        "Recovery ladder: wait, warn, reconnect, backup + cleanup, last-resort reset, QR required.",
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
  fleet: z
    .strictObject({
      outageShare: z.number().gt(0).max(1).default(0.5).meta({
        description: "Share of companies going down within outageWindow that means a network outage (0-1].",
      }),
      outageMinCompanies: z
        .int()
        .min(1)
        .default(3)
        .meta({ description: "At least this many companies must go down." }),
      outageWindow: duration("companies going down within this window count together").default(120_000),
      checkEvery: duration("how often the ladder looks at every company").default(15_000),
      probe: z
        .union([
          z.null(),
          z.strictObject({
            host: z.string().min(1).default("web.whatsapp.com"),
            port: z.int().min(1).max(65_535).default(443),
            every: duration("time between two probes").default(30_000),
            timeout: duration("a probe slower than this failed").default(5_000),
          }),
        ])
        .default({ host: "web.whatsapp.com", port: 443, every: 30_000, timeout: 5_000 })
        .meta({
          description:
            "TCP connectivity probe to WhatsApp; failing means the fleet is offline. null: no probe.",
        }),
    })
    .default({
      outageShare: 0.5,
      outageMinCompanies: 3,
      outageWindow: 120_000,
      checkEvery: 15_000,
      probe: { host: "web.whatsapp.com", port: 443, every: 30_000, timeout: 5_000 },
    }),
  http: z
    .strictObject({
      listen: z
        .union([
          z.null(),
          z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
            error: 'Expected "host:port" such as "127.0.0.1:9480" (IPv6: "[::1]:9480"), or null',
          }),
        ])
        .default("127.0.0.1:9480")
        .meta({
          description:
            "Address of the HTTP side (/healthz, /readyz, /metrics, /api, pages); null: off. A non-loopback address needs WARDEN_HTTP_TOKEN.",
        }),
    })
    .default({ listen: "127.0.0.1:9480" }),
  ...companyDefaultsSchema.shape,
  // Global-only keys next to the per-company ones (loadConfig splits them off).
  telegram: z
    .strictObject({
      chatIds: companyDefaultsSchema.shape.telegram.unwrap().shape.chatIds,
      admins: z.array(telegramUserId).default([]).meta({
        description: "Telegram user ids that may command every company from any allowed chat.",
      }),
    })
    .default({ chatIds: [], admins: [] }),
  alerts: z
    .strictObject({
      ...companyDefaultsSchema.shape.alerts.unwrap().shape,
      groupAbove: z.int().min(1).max(1_000).default(5).meta({
        description: "More alerts than this waiting for one chat go out as one grouped message.",
      }),
      groupWait: duration("alerts for one chat queued within this window may be grouped").default(10_000),
    })
    .default({ remindEvery: 3_600_000, hysteresis: 10, groupAbove: 5, groupWait: 10_000 }),
});

/** warden.json after parsing (durations in ms). */
export type WardenFile = z.output<typeof wardenFileSchema>;
/** A company override file after parsing. */
export type CompanyOverride = z.output<typeof companyOverrideSchema>;
/** The per-company settings after defaults and overrides are merged. */
export type CompanySettings = z.output<typeof companyDefaultsSchema>;
