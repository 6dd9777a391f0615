/**
 * The whole of warden.json: the global settings (sessions folder, scan, history, workers, fleet,
 * HTTP) next to the per-company defaults, with the global-only Telegram and alert keys.
 */
import { z } from "zod";
import { companyDefaultsSchema } from "./company-schema.js";
import { chatId, duration, telegramUserId } from "./schema-primitives.js";

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
  audit: z
    .strictObject({
      keep: duration("how long audit rows are kept (older ones are pruned)").default(90 * 86_400_000),
    })
    .default({ keep: 90 * 86_400_000 }),
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
      correlate: z
        .strictObject({
          share: z.number().gt(0).max(1).default(0.3).meta({
            description:
              "Share of companies logging out, going deaf or starting a decrypt storm within window that is one WhatsApp-side incident (0-1].",
          }),
          min: z.int().min(1).default(3).meta({ description: "At least this many companies." }),
          window: duration("companies failing within this window count together").default(300_000),
        })
        .default({ share: 0.3, min: 3, window: 300_000 })
        .meta({
          description:
            "Fleet correlation: one incident alert instead of N; the ladder holds their destructive steps.",
        }),
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
      correlate: { share: 0.3, min: 3, window: 300_000 },
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
            "Address of the HTTP side (/healthz, /readyz, /metrics, /api, pages); null: off. A non-loopback address needs WARDEN_HTTP_TOKEN, and TLS in front (trustProxy) or allowPlainHttp.",
        }),
      allowedHosts: z
        .array(
          z
            .string()
            .min(1)
            .regex(/^[A-Za-z0-9.:[\]-]+$/, { error: "Expected a host name, e.g. warden.example.com" }),
        )
        .default([])
        .meta({
          description:
            "Host headers accepted besides the listen address and localhost (the name a proxy forwards); others get 421.",
        }),
      trustProxy: z
        .union([z.boolean(), z.array(z.string().min(1))])
        .default(false)
        .meta({
          description:
            "Addresses of a TLS-terminating reverse proxy whose X-Forwarded-Proto/-For are believed (true: any); setting it says TLS is in front.",
        }),
      allowPlainHttp: z.boolean().default(false).meta({
        description:
          "Allow a non-loopback http.listen without a trusted TLS proxy in front (tokens in clear).",
      }),
      sessionTtl: duration("a dashboard login (cookie session) lasts this long").default(12 * 3_600_000),
    })
    .default({
      listen: "127.0.0.1:9480",
      allowedHosts: [],
      trustProxy: false,
      allowPlainHttp: false,
      sessionTtl: 12 * 3_600_000,
    }),
  ...companyDefaultsSchema.shape,
  // Global-only keys next to the per-company ones (loadConfig splits them off).
  telegram: z
    .strictObject({
      chatIds: companyDefaultsSchema.shape.telegram.unwrap().shape.chatIds,
      admins: z.array(telegramUserId).default([]).meta({
        description: "Telegram user ids that may command every company from any allowed chat.",
      }),
      escalateTo: z.array(chatId).default([]).meta({
        description:
          "Chats an incident still unacked after alerts.escalateAfter is sent to (once). They see the fleet; commands there need telegram.admins or the company's operators, as anywhere.",
      }),
    })
    .default({ chatIds: [], admins: [], escalateTo: [] }),
  alerts: z
    .strictObject({
      ...companyDefaultsSchema.shape.alerts.unwrap().shape,
      groupAbove: z.int().min(1).max(1_000).default(5).meta({
        description: "More alerts than this waiting for one chat go out as one grouped message.",
      }),
      groupWait: duration("alerts for one chat queued within this window may be grouped").default(10_000),
      digestAt: z
        .union([
          z.null(),
          z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
            error: 'Expected a time of day "HH:MM" such as "09:00" (alerts.digestAt), or null',
          }),
        ])
        .default(null)
        .meta({
          description:
            "Time of day (maintenance.timezone of the defaults) each chat gets a summary of its companies' open problems (null: no daily digest; /digest and warden digest still work).",
        }),
    })
    .default({
      remindEvery: 3_600_000,
      hysteresis: 10,
      escalateAfter: null,
      groupAbove: 5,
      groupWait: 10_000,
      digestAt: null,
    }),
});

/** warden.json after parsing (durations in ms). */
export type WardenFile = z.output<typeof wardenFileSchema>;
