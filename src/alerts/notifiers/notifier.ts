/** The notifier contract: one file per channel, a registry that rejects unknown names. */

/** A message handed to a notifier. */
export interface OutgoingMessage {
  target: string;
  html: string;
  text: string;
  silent: boolean;
  payload: Record<string, unknown>;
}

/** What a delivery gave back: the channel's id of the message (Telegram's message_id), if any. */
export interface SentMessage {
  messageId?: number;
}

/** A delivery channel. */
export interface Notifier {
  readonly name: string;
  /**
   * Whether deliveries wait for the per-chat gap and the overall rate (Telegram's limits).
   * @default true. The log is unpaced: a 1,000-alert storm reaches it in seconds, not 17 minutes.
   */
  readonly paced?: boolean;
  /**
   * Delivers one message; throws a DeliveryError to ask for a retry, a new target or to give up.
   * `signal` aborts an in-flight send (shutdown at the WARDEN_FLUSH_MS deadline).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: channels without message ids (log, tests' fakes) return nothing
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<void | SentMessage>;
}

// The error a notifier throws lives with every other error (src/errors.ts); re-exported for notifiers.
export { DeliveryError, type DeliveryFailure } from "../../errors.js";
