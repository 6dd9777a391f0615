/** The notifier contract: one file per channel, a registry that rejects unknown names. */

/** A message handed to a notifier. */
export interface OutgoingMessage {
  target: string;
  html: string;
  text: string;
  silent: boolean;
  payload: Record<string, unknown>;
}

/** A delivery channel. */
export interface Notifier {
  readonly name: string;
  /** Delivers one message; throws a DeliveryError to ask for a retry, a new target or to give up. */
  send(message: OutgoingMessage): Promise<void>;
}

/** How a failed delivery should be handled. */
export type DeliveryFailure =
  | { kind: "retry"; retryAfterMs?: number; reason: string }
  | { kind: "migrate"; newTarget: string; reason: string }
  | { kind: "refused"; reason: string };

/** Thrown by notifiers; the dispatcher reads `failure`. */
export class DeliveryError extends Error {
  readonly failure: DeliveryFailure;

  constructor(failure: DeliveryFailure, options?: { cause?: unknown }) {
    super(failure.reason, options);
    this.name = "DeliveryError";
    this.failure = failure;
  }
}
