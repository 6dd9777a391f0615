/**
 * The keys of the nested per-company sections (thresholds, count basis, cleanup, ladder, maintenance,
 * backups, simulation, signals, liveness) without defaults. The defaults schema adds each key's default
 * from `defaults.ts`; the override schema takes the bare keys so an override that leaves a key out
 * does not reset it.
 */
import { z } from "zod";
import { COMPANY_DEFAULTS } from "./defaults.js";
import { duration, fileCount, positiveInt, withDefaults } from "./schema-primitives.js";

/** The cleanup rules' keys (what a cleanup may delete). */
export const cleanupShape = {
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
/** What `files.counted` (the number the thresholds apply to) means for a company. */
export const countBasis = z
  .enum(["stale", "counted", "total"], { error: 'Expected "stale", "counted" or "total" (count.basis)' })
  .meta({
    description:
      'Files the thresholds apply to: "stale" (files a cleanup would delete now), "counted" (every file but the newest preKeyReserve pre-keys), "total" (ls | wc -l).',
  });

/** The recovery ladder's keys. */
export const ladderShape = {
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
  autoReset: z.boolean().meta({
    description:
      "true: the ladder may reset a down company's key files on key-state evidence (a decrypt-failure storm; a 500 close never is). false (default): it never deletes a live file and asks a human instead.",
  }),
  maxBackoff: duration("longest wait between two of the ladder's reconnect requests once it asked a human"),
  stableAfter: duration(
    "a connection shorter than this is a flap: it does not end the down episode nor reset the budget",
  ),
  flapAlertAt: positiveInt("flaps within an hour that send one 'flapping' alert", 1_000),
};
/** The retention keys of backups and creds snapshots. */
export const backupsShape = {
  keep: positiveInt("backups kept per company", 1_000),
  credsSnapshots: positiveInt("versions of creds.json and of each app-state key kept in SQLite", 1_000),
  maxAge: duration(
    "the health check, /digest and the dashboard recommend a backup when the newest verified one is older than this",
  ),
  every: z.union([z.null(), duration("the supervisor takes and verifies a backup this often")]).meta({
    description:
      "The supervisor takes and verifies a backup of the company this often (staggered, one at a time, not while an action holds it); null: never.",
  }),
};

/** The four alert levels on the counted files. */
export const thresholdsShape = {
  monitor: fileCount("counted files at which a low-priority alert is sent"),
  warning: fileCount("counted files at which a warning is sent"),
  critical: fileCount("counted files at which a critical alert is sent and repeated"),
  fatal: fileCount("counted files considered fatal (alert repeated)"),
};

/** The simulated driver's keys, without defaults (overrides must not reset keys they do not name). */
export const simulationShape = {
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
  inboundEvery: z
    .union([z.null(), duration("time between two simulated incoming messages")])
    .meta({ description: "Inbound traffic rhythm while open (null: no incoming messages)." }),
  deafAfter: z.union([z.null(), duration("time open before the socket stops receiving")]).meta({
    description: "The socket stays open but incoming messages stop this long after it opened (null: never).",
  }),
  restrictAfter: z
    .union([z.null(), duration("time open before a reachout timelock")])
    .meta({ description: "A reachout timelock this long after the socket opened (null: never)." }),
  restrictFor: duration("how long the simulated reachout timelock lasts"),
};

/** The simulated driver's scenario with every default (warden.json). */
export const simulationSchema = withDefaults(simulationShape, COMPANY_DEFAULTS.simulation).meta({
  description: "Simulated driver scenario.",
});

/** The signal-health monitor's keys (decrypt-failure alert, opt-in session repair). */
export const signalsShape = {
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

/** The liveness keys: when an open company with inbound history counts as deaf, and what the ladder does. */
export const livenessShape = {
  silentAfter: duration("an open company with inbound history silent this long (at least) is deaf"),
  gapFactor: z.number().min(1).max(100).meta({
    description:
      "Deaf only past gapFactor x the company's usual longest gap at this hour of the week (learned from 14 days).",
  }),
  settleFor: duration("time a liveness reconnect is given before the socket is recreated"),
  queryTimeout: duration("a ping to WhatsApp unanswered this long makes an open company deaf at once"),
};
/** The liveness section with its defaults (warden.json). */
export const livenessSchema = withDefaults(livenessShape, COMPANY_DEFAULTS.liveness).meta({
  description: "Liveness: an open socket that hears nothing (deaf), WhatsApp restrictions.",
});
