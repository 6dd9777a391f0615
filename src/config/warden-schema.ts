/**
 * The whole of warden.json: the global settings (sessions folder, scan, history, workers, fleet,
 * HTTP) next to the per-company defaults, with the global-only Telegram and alert keys. Every
 * default comes from `defaults.ts`.
 */
import { z } from "zod";
import { alertsShape, companyDefaultsSchema } from "./company-schema.js";
import { COMPANY_DEFAULTS, GLOBAL_DEFAULTS as G } from "./defaults.js";
import { chatId, duration, telegramUserId, withDefaults } from "./schema-primitives.js";

const scanShape = {
  reconcileEvery: duration("full reconcile scan period, on top of file events"),
  debounce: duration("quiet time after a file event before a folder is recounted"),
};

const workersShape = {
  instances: z.int().min(1).max(64).meta({ description: "warden-worker instances (pm2)." }),
  heartbeatEvery: duration("worker heartbeat and lease renewal period"),
  leaseTtl: duration("a company lease lasts this long without renewal"),
  deadAfter: duration("a worker silent this long is declared dead and restarted"),
  controlPollEvery: duration("how often workers look for control requests"),
};

const correlateShape = {
  share: z.number().gt(0).max(1).meta({
    description:
      "Share of companies logging out, going deaf or starting a decrypt storm within window that is one WhatsApp-side incident (0-1].",
  }),
  min: z.int().min(1).meta({ description: "At least this many companies." }),
  window: duration("companies failing within this window count together"),
};

const probeShape = {
  host: z.string().min(1),
  port: z.int().min(1).max(65_535),
  every: duration("time between two probes"),
  timeout: duration("a probe slower than this failed"),
};

const fleetShape = {
  outageShare: z.number().gt(0).max(1).meta({
    description: "Share of companies going down within outageWindow that means a network outage (0-1].",
  }),
  outageMinCompanies: z.int().min(1).meta({ description: "At least this many companies must go down." }),
  outageWindow: duration("companies going down within this window count together"),
  checkEvery: duration("how often the ladder looks at every company"),
  correlate: withDefaults(correlateShape, G.fleet.correlate).meta({
    description:
      "Fleet correlation: one incident alert instead of N; the ladder holds their destructive steps.",
  }),
  probe: z.union([z.null(), withDefaults(probeShape, G.fleet.probe)]).meta({
    description: "TCP connectivity probe to WhatsApp; failing means the fleet is offline. null: no probe.",
  }),
};

const httpShape = {
  listen: z
    .union([
      z.null(),
      z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
        error: 'Expected "host:port" such as "127.0.0.1:9480" (IPv6: "[::1]:9480"), or null',
      }),
    ])
    .meta({
      description:
        "Address of the HTTP side (/healthz, /readyz, /metrics, /api, pages); null: off. A non-loopback address needs WARDEN_HTTP_TOKEN, and TLS in front (trustProxy) or allowPlainHttp.",
    }),
  allowedHosts: z
    .array(
      z
        .string()
        .min(1)
        .regex(/^[A-Za-z0-9.:[\]-]+$/, { error: "Expected a host name, e.g. warden.example.com" }),
    )
    .meta({
      description:
        "Host headers accepted besides the listen address and localhost (the name a proxy forwards); others get 421.",
    }),
  trustProxy: z.union([z.boolean(), z.array(z.string().min(1))]).meta({
    description:
      "Addresses of a TLS-terminating reverse proxy whose X-Forwarded-Proto/-For are believed (true: any); setting it says TLS is in front.",
  }),
  allowPlainHttp: z.boolean().meta({
    description: "Allow a non-loopback http.listen without a trusted TLS proxy in front (tokens in clear).",
  }),
  sessionTtl: duration("a dashboard login (cookie session) lasts this long"),
};

const globalTelegramShape = {
  chatIds: companyDefaultsSchema.shape.telegram.unwrap().shape.chatIds.unwrap(),
  admins: z.array(telegramUserId).meta({
    description: "Telegram user ids that may command every company from any allowed chat.",
  }),
  escalateTo: z.array(chatId).meta({
    description:
      "Chats an incident still unacked after alerts.escalateAfter is sent to (once). They see the fleet; commands there need telegram.admins or the company's operators, as anywhere.",
  }),
};

const globalAlertsShape = {
  ...alertsShape,
  groupAbove: z.int().min(1).max(1_000).meta({
    description: "More alerts than this waiting for one chat go out as one grouped message.",
  }),
  groupWait: duration("alerts for one chat queued within this window may be grouped"),
  digestAt: z
    .union([
      z.null(),
      z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
        error: 'Expected a time of day "HH:MM" such as "09:00" (alerts.digestAt), or null',
      }),
    ])
    .meta({
      description:
        "Time of day (maintenance.timezone of the defaults) each chat gets a summary of its companies' open problems (null: no daily digest; /digest and warden digest still work).",
    }),
};

/** The whole of warden.json: global settings plus the per-company defaults. */
export const wardenFileSchema = z.strictObject({
  $schema: z.string().optional(),
  sessionsDir: z.string().min(1).prefault(G.sessionsDir).meta({
    description:
      "Folder whose subfolders are the companies' Baileys auth folders (relative to the working directory).",
  }),
  scan: withDefaults(scanShape, G.scan),
  history: withDefaults({ keep: duration("how long the per-company count history is kept") }, G.history),
  audit: withDefaults({ keep: duration("how long audit rows are kept (older ones are pruned)") }, G.audit),
  workers: withDefaults(workersShape, G.workers),
  fleet: withDefaults(fleetShape, { ...G.fleet, correlate: {}, probe: {} }),
  http: withDefaults(httpShape, G.http),
  ...companyDefaultsSchema.shape,
  // Global-only keys next to the per-company ones (loadConfig splits them off).
  telegram: withDefaults(globalTelegramShape, {
    chatIds: COMPANY_DEFAULTS.telegram.chatIds,
    ...G.telegram,
  }),
  alerts: withDefaults(globalAlertsShape, { ...COMPANY_DEFAULTS.alerts, ...G.alerts }),
});

/** warden.json after parsing (durations in ms). */
export type WardenFile = z.output<typeof wardenFileSchema>;
