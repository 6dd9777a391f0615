/**
 * Every default of wa-warden's configuration, and only here. Values are written as an operator
 * writes them in warden.json (durations as "10m"): the schemas parse them like any value
 * (`.prefault()`), the generated `config/*.schema.json` show them to editors, and
 * test/config-defaults.test.ts checks the README's options table against this file. What each
 * option means is its schema's description (company-shapes.ts, company-schema.ts, warden-schema.ts).
 */

/** Defaults of the per-company keys (warden.json's company defaults; `companies/<id>.json` overrides them). */
export const COMPANY_DEFAULTS = {
  /** Alert levels on the counted files; must increase. */
  thresholds: { monitor: 120, warning: 150, critical: 180, fatal: 200 },
  /** What the thresholds count: the files a cleanup would delete now. */
  count: { basis: "stale" as "stale" | "counted" | "total" },
  /** Newest pre-keys left out of basis "counted": the installed Baileys' INITIAL_PREKEY_COUNT. */
  preKeyReserve: "auto" as "auto" | number,
  alerts: {
    /** Critical and fatal alerts repeat this often. */
    remindEvery: "1h",
    /** Files below a level before it is left. */
    hysteresis: 10,
    /** An unacked incident is never escalated. */
    escalateAfter: null as string | null,
  },
  telegram: {
    /** Chats for the company's alerts (a company's list is added to the global one). */
    chatIds: [] as (number | string)[],
    /** Telegram user ids that may command this company (company files only). */
    operators: [] as number[],
  },
  /** Connection driver: real WhatsApp. */
  driver: "baileys" as "baileys" | "simulated",
  /** The simulated driver's scenario: connects after 200 ms and stays healthy. */
  simulation: {
    connect: true,
    connectAfter: "200ms",
    initialPreKeys: 30,
    growPerMinute: 0,
    disconnectAfter: null as string | null,
    disconnectCode: 428,
    recover: true,
    pairAfter: null as string | null,
    decryptFailuresPerMinute: 0,
    decryptReason: "Bad MAC",
    inboundEvery: null as string | null,
    deafAfter: null as string | null,
    restrictAfter: null as string | null,
    restrictFor: "1h",
  },
  pairing: {
    /** Pair by QR, not by a phone-number code. */
    phoneNumber: null as string | null,
    /** A QR or code shown in a private chat is deleted this long after it was asked for. */
    qrTtl: "10m",
  },
  /** Smart cleanup rules. */
  cleanup: {
    /** "auto": Baileys' INITIAL_PREKEY_COUNT (812) newest pre-keys always kept. */
    keepPreKeys: "auto" as "auto" | number,
    sessionMaxAge: "14d",
    senderKeyMaxAge: "3d",
    foreignSenderKeyMaxAge: "30d",
    minAge: "7d",
  },
  /** The recovery ladder: on, never resets on its own (`autoReset` false). */
  ladder: {
    enabled: true,
    warnAfter: "10m",
    reconnectAfter: "15m",
    reconnectAttempts: 3,
    reconnectBackoff: "2m",
    settleFor: "5m",
    budget: { max: 6, window: "6h" },
    emergencyCooldown: "1h",
    minCleanupFiles: 20,
    autoReset: false,
    maxBackoff: "30m",
    stableAfter: "2m",
    flapAlertAt: 4,
  },
  /** The window of scheduled cleanups of a connected company. */
  maintenance: { window: "03:00-05:00" as string | null, timezone: "UTC" },
  /** Backup and creds-snapshot retention, and the supervisor's daily backup. */
  backups: { keep: 5, credsSnapshots: 10, maxAge: "2d", every: "24h" as string | null },
  /** Signal health: the decrypt-failure alert; session repair off. */
  signals: {
    alertAt: { count: 20, window: "10m" },
    repairSessions: false,
    repairAfter: { count: 10, window: "10m" },
  },
  /** Liveness: when an open company with inbound history is deaf. */
  liveness: { silentAfter: "30m", gapFactor: 3, settleFor: "10m", queryTimeout: "10s" },
  /** Not muted. */
  mutedUntil: null as string | null,
};

/** Defaults of the global-only keys of warden.json. */
export const GLOBAL_DEFAULTS = {
  /** Relative to the working directory. */
  sessionsDir: "./sessions",
  scan: { reconcileEvery: "60s", debounce: "500ms" },
  history: { keep: "30d" },
  audit: { keep: "90d" },
  workers: {
    instances: 1,
    heartbeatEvery: "5s",
    leaseTtl: "30s",
    deadAfter: "45s",
    controlPollEvery: "500ms",
  },
  fleet: {
    outageShare: 0.5,
    outageMinCompanies: 3,
    outageWindow: "2m",
    checkEvery: "15s",
    correlate: { share: 0.3, min: 3, window: "5m" },
    /** The TCP probe to WhatsApp (null in warden.json turns it off). */
    probe: { host: "web.whatsapp.com", port: 443, every: "30s", timeout: "5s" },
  },
  http: {
    /** Loopback only (null in warden.json turns the HTTP side off). */
    listen: "127.0.0.1:9480" as string | null,
    allowedHosts: [] as string[],
    trustProxy: false as boolean | string[],
    allowPlainHttp: false,
    sessionTtl: "12h",
  },
  /** Global-only Telegram keys (beside the company key `telegram.chatIds`). */
  telegram: { admins: [] as number[], escalateTo: [] as (number | string)[] },
  /** Global-only alert keys: storm grouping and the daily digest (off). */
  alerts: { groupAbove: 5, groupWait: "10s", digestAt: null as string | null },
};
