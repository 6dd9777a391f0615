/**
 * Pure classification of what Baileys and libsignal say about a session's key state into signals
 * (signal health). Texts read from the installed baileys 7.0.0-rc14 and libsignal 6.0.0:
 *
 * - `Utils/decode-wa-message.js`: `logger.error({ key, err, messageType, sender, author, ... },
 *   'failed to decrypt message')`, then the message becomes a CIPHERTEXT stub whose first stub
 *   parameter is `err.message`; a message with nothing to decrypt gets `Message absent from node`
 *   (no log line: seen on `messages.upsert` only);
 * - `Socket/messages-recv.js`: `logger.info({ msgAttrs, retryCount }, 'sent retry receipt')`;
 * - `Socket/socket.js`: `logger.error({ reasonNode, fullErrorNode }, 'stream errored out')`, closed
 *   with `getErrorCodeFromStreamError` (`conflict` → 440, a `code` attribute wins, else 500);
 * - libsignal writes with `console.*`, not through Baileys' logger: `session_builder.js`
 *   `console.warn("Closing open session in favor of incoming prekey bundle")` then
 *   `session_record.js` `console.info("Closing session:", session)` (the whole session object, key
 *   material included); the outgoing case ("Closing stale open session for new outgoing prekey
 *   bundle") is commented out in 6.0.0 and only `Closing session:` remains; `session_cipher.js`
 *   `console.error("Failed to decrypt message with any known session...")` then one
 *   `console.error("Session error:" + e, e.stack)` per session tried (a Bad MAC flood).
 */
import { getErrorCodeFromStreamError } from "baileys";

/** The kinds of signal counted per company. */
export const SIGNAL_KINDS = ["decrypt-failure", "session-churn", "retry-receipt", "stream-error"] as const;

/** A signal kind. */
export type SignalKind = (typeof SIGNAL_KINDS)[number];

/** One observation about a company's key state. */
export interface Signal {
  kind: SignalKind;
  /** Normalised reason (`Bad MAC`, `No session record`, `device_removed 401`, ...). */
  reason: string;
  /** The peer's jid as Baileys logged it (hashed before it is stored or logged). */
  peer?: string;
}

/** A signal and whether the line that carried it should be kept out of the log (flood guard). */
export interface Classified {
  signal: Signal;
  /** true: count it, do not write the line (stack traces, key material). */
  suppress: boolean;
}

/**
 * Decrypt-failure reasons, matched on the error text: the first pattern found names the reason.
 * Order matters: "Bad MAC length" is a Bad MAC too; the group texts are Baileys' own
 * (`Signal/Group/group_cipher.js`).
 */
const DECRYPT_REASONS: readonly (readonly [pattern: string, reason: string])[] = [
  ["Bad MAC", "Bad MAC"],
  ["No session record", "No session record"],
  ["Invalid PreKey ID", "Invalid PreKey ID"],
  ["Missing SignedPreKey", "Missing SignedPreKey"],
  ["No SenderKeyRecord", "No SenderKeyRecord"],
  ["No session found to decrypt message", "No session found"],
  ["No matching sessions found", "No matching sessions"],
  ["No sessions available", "No sessions available"],
  ["Key used already or never filled", "Key used already"],
  ["Over 2000 messages into the future", "Too far in the future"],
  ["Chain closed", "Chain closed"],
  ["Message absent from node", "Message absent from node"],
  ["UntrustedIdentityKeyError", "Untrusted identity"],
];

/** The normalised reason of a decrypt error text (`other` when none of the known texts). */
export function decryptReasonOf(text: string): string {
  for (const [pattern, reason] of DECRYPT_REASONS) if (text.includes(pattern)) return reason;
  return "other";
}

const INCOMING_BUNDLE = "Closing open session in favor of incoming prekey bundle";
const STALE_SESSION = "Closing stale open session";

/** Reasons of session churn. */
export const CHURN_REASONS = {
  incoming: "incoming prekey bundle",
  stale: "stale open session",
} as const;

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  if (typeof err === "object" && err !== null) {
    const e = err as { message?: unknown; name?: unknown };
    return `${String(e.name ?? "")}: ${String(e.message ?? "")}`;
  }
  return String(err);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * Classifies one call on Baileys' logger (`logger.<level>(obj, msg)`); null when it says nothing
 * about the key state. Works whatever the level: Baileys logs retry receipts at info, which the
 * worker's "warn" Baileys logger would drop before any counting.
 */
export function classifyLogRecord(obj: unknown, msg: unknown): Classified | null {
  if (typeof msg !== "string") return null;
  const o = (typeof obj === "object" && obj !== null ? obj : {}) as Record<string, unknown>;
  switch (msg) {
    case "failed to decrypt message": {
      const peer = str(o.author) ?? str(o.sender);
      return {
        signal: {
          kind: "decrypt-failure",
          reason: decryptReasonOf(errorText(o.err)),
          ...(peer ? { peer } : {}),
        },
        suppress: true,
      };
    }
    case "sent retry receipt": {
      const attrs = (o.msgAttrs ?? {}) as Record<string, unknown>;
      const peer = str(attrs.participant) ?? str(attrs.from);
      const count = typeof o.retryCount === "number" ? o.retryCount : 1;
      return {
        signal: {
          kind: "retry-receipt",
          reason: count > 1 ? "retry 2+" : "retry 1",
          ...(peer ? { peer } : {}),
        },
        suppress: false,
      };
    }
    case "stream errored out":
      return {
        signal: { kind: "stream-error", reason: streamErrorReason(o.fullErrorNode) },
        suppress: false,
      };
    default:
      return null;
  }
}

/**
 * `<reason> <close code>` of a stream:error node, with Baileys' own code mapping. A `conflict`
 * child with a `type` (WhatsApp's `<conflict type="device_removed"/>`) is named by its type.
 */
export function streamErrorReason(node: unknown): string {
  if (typeof node !== "object" || node === null) return "unknown";
  try {
    const { reason, statusCode } = getErrorCodeFromStreamError(
      node as Parameters<typeof getErrorCodeFromStreamError>[0],
    );
    const content = (node as { content?: unknown }).content;
    const first = Array.isArray(content)
      ? (content[0] as { attrs?: Record<string, unknown> } | undefined)
      : undefined;
    const type = str(first?.attrs?.type);
    return `${type ?? reason} ${statusCode}`;
  } catch {
    // A node Baileys itself could not read: still a stream error.
    return "unknown";
  }
}

/** What the console guard remembers between two libsignal console lines of one company. */
export interface ConsoleMemory {
  /** Set by the "in favor of incoming prekey bundle" warning; the next "Closing session:" uses it. */
  pendingChurn?: string;
}

/**
 * Classifies one libsignal console call. "Closing session:" is what counts as churn (every close
 * prints it once); the warning before it only names the reason. Returns null for lines that are
 * not libsignal's.
 */
export function classifyConsoleLine(
  args: readonly unknown[],
  memory: ConsoleMemory,
): Classified | "swallow" | null {
  const first = args[0];
  if (typeof first !== "string") return null;
  if (first.startsWith(INCOMING_BUNDLE)) {
    memory.pendingChurn = CHURN_REASONS.incoming;
    return "swallow";
  }
  if (first.startsWith(STALE_SESSION)) {
    memory.pendingChurn = CHURN_REASONS.stale;
    return "swallow";
  }
  if (first === "Closing session:") {
    const reason = memory.pendingChurn ?? CHURN_REASONS.stale;
    memory.pendingChurn = undefined;
    return { signal: { kind: "session-churn", reason }, suppress: true };
  }
  // The decrypt failure itself is counted from Baileys' "failed to decrypt message": these lines
  // only repeat it, with a stack per session tried.
  if (
    first === "Failed to decrypt message with any known session..." ||
    first.startsWith("Session error:") ||
    first === "Opening session:" ||
    first === "Removing old closed session:" ||
    first === "Session already closed" ||
    first === "Decrypted message with closed session."
  )
    return "swallow";
  return null;
}
