/**
 * What to do after a socket closes, by Baileys' DisconnectReason code. Pure. Baileys never
 * reconnects by itself, so every close goes through here.
 * - 515 restartRequired: new socket at once (normal right after pairing);
 * - 408, 428, 500, 503 (and unknown codes): reconnect with capped exponential backoff and jitter;
 *   the attempt counter resets once a socket has stayed open for `stableAfterMs`;
 * - 440 connectionReplaced: stop (another client took the session; fighting it loops);
 * - 401 loggedOut (device_removed too): stop, QR required (the only code that means the device is
 *   gone); delete nothing;
 * - 411 multideviceMismatch: stop (the session is intact; the phone's side must change);
 * - 403 forbidden: stop (the account is refused, possibly banned: a new pairing does not help);
 * - 405: the WhatsApp Web version Baileys speaks is outdated: stop until Baileys is upgraded.
 */

export { type ConnectionStateName, TERMINAL_STATES } from "../fleet/connection-states.js";

import type { ConnectionStateName } from "../fleet/connection-states.js";

/** Backoff settings. */
export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
  /** An open socket that lived this long resets the attempt counter. */
  stableAfterMs: number;
  /** 0..1: the delay is multiplied by a factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

/** Default backoff: 1 s doubling to 60 s, reset after 2 min open, +-20 % jitter. */
export const DEFAULT_BACKOFF: BackoffSettings = {
  baseMs: 1_000,
  maxMs: 60_000,
  stableAfterMs: 120_000,
  jitter: 0.2,
};

/** The decision after a close. */
export type CloseDecision =
  | { action: "reconnect"; delayMs: number; attempt: number; state: "reconnecting" }
  | {
      action: "stop";
      state: Exclude<ConnectionStateName, "open" | "connecting" | "reconnecting" | "pairing">;
    };

/**
 * Decides after a close. `attempt` is the number of reconnects since the last stable connection;
 * `openFor` how long the closed socket had been open (0 if it never opened); `random` in [0, 1).
 */
export function decideAfterClose(
  code: number | undefined,
  attempt: number,
  openFor: number,
  settings: BackoffSettings = DEFAULT_BACKOFF,
  random: number = Math.random(),
): CloseDecision {
  switch (code) {
    case 440:
      return { action: "stop", state: "replaced" };
    case 401:
      return { action: "stop", state: "qr_required" };
    case 411:
      return { action: "stop", state: "multidevice_mismatch" };
    case 403:
      return { action: "stop", state: "forbidden" };
    case 405:
      return { action: "stop", state: "outdated_client" };
    case 515:
      return { action: "reconnect", delayMs: 0, attempt: 0, state: "reconnecting" };
  }
  const next = openFor >= settings.stableAfterMs ? 1 : attempt + 1;
  const raw = Math.min(settings.maxMs, settings.baseMs * 2 ** (next - 1));
  const factor = 1 - settings.jitter + 2 * settings.jitter * random;
  return {
    action: "reconnect",
    delayMs: Math.round(Math.min(settings.maxMs, raw * factor)),
    attempt: next,
    state: "reconnecting",
  };
}

/** Stable 32-bit FNV-1a hash of a company id: which worker instance owns it. */
export function ownerInstance(company: string, instances: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < company.length; i++) {
    hash ^= company.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, instances);
}
