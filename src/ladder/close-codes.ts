/**
 * Baileys close codes as an operator reads them, and what each one truthfully means (rc14,
 * `Types/index.js` DisconnectReason, `Socket/socket.js`, `Utils/generics.js`). Only 401 says the
 * device is gone; it is the only code that ever leads to QR required or to the advice to pair
 * again. 500 in particular is what rc14 gives every stream error without a code
 * (`getErrorCodeFromStreamError`) and every WebSocket error whose code does not start with "E"
 * (`getCodeFromWSError`): a TLS-inspecting proxy ("self-signed certificate"), a wrong clock, a
 * stream error with an `<ack/>` child. It says nothing about the key files.
 */
import { wardenCommand } from "../cli-invocation.js";

/** Baileys DisconnectReason names, for the codes an operator sees in an alert. */
const CODE_NAMES: Record<number, string> = {
  401: "logged out",
  403: "forbidden",
  405: "outdated client",
  408: "connection lost / timed out",
  411: "multidevice mismatch",
  428: "connection closed",
  440: "connection replaced",
  500: "bad session (Baileys' code for any error without one)",
  503: "WhatsApp unavailable",
  515: "restart required",
};

/** What a close code means for the company: the state a worker records, and the operator's sentence. */
export interface CloseCodeMeaning {
  /** the connection state the worker records after this close */
  state:
    | "qr_required"
    | "forbidden"
    | "multidevice_mismatch"
    | "replaced"
    | "outdated_client"
    | "reconnecting";
  /** true only for 401: the device is gone and only a new pairing brings it back */
  needsQr: boolean;
  /** what happened, as an operator should read it */
  what: string;
  /** what to do, with the company's own commands */
  next: (company: string) => string;
}

/** Reconnects of a transient close: the ladder keeps trying, then asks a human with the evidence. */
const TRANSIENT: Omit<CloseCodeMeaning, "what"> = {
  state: "reconnecting",
  needsQr: false,
  next: (c) =>
    `wa-warden reconnects, then sends one "human needed" alert with the evidence; nothing is deleted and no new pairing is needed (\`${wardenCommand(`status ${c}`)}\`).`,
};

/** The truthful meaning of each close code (unknown codes are transient). */
export const CLOSE_CODE_MEANINGS: Readonly<Record<number, CloseCodeMeaning>> = Object.freeze({
  401: {
    state: "qr_required",
    needsQr: true,
    what: "WhatsApp logged this device out (401 logged out, device_removed included): the linked device no longer exists",
    next: (c) =>
      `A backup is taken and nothing is deleted; the company stays stopped until it is paired again: \`${wardenCommand(`pair ${c} --new`)}\`, then scan the QR shown by \`${wardenCommand(`status ${c}`)}\`.`,
  },
  403: {
    state: "forbidden",
    needsQr: false,
    what: "WhatsApp refuses this account (forbidden: possibly banned)",
    next: (c) =>
      `wa-warden stops reconnecting and deletes nothing. A new pairing does not help a refused number: check the account on the phone (WhatsApp shows a ban or restriction there), then \`${wardenCommand(`start ${c}`)}\`.`,
  },
  405: {
    state: "outdated_client",
    needsQr: false,
    what: "WhatsApp rejects the client version Baileys speaks (405 outdated client)",
    next: () =>
      "No reconnect can help and the session is intact: upgrade the baileys package, then restart the workers.",
  },
  411: {
    state: "multidevice_mismatch",
    needsQr: false,
    what: "WhatsApp asked this client to leave multi-device mode (411 multidevice mismatch)",
    next: (c) =>
      `The session is not gone and nothing is deleted. Check WhatsApp on the phone (updated, Linked devices available), then \`${wardenCommand(`start ${c}`)}\`.`,
  },
  440: {
    state: "replaced",
    needsQr: false,
    what: "another client took over the WhatsApp session (440 connection replaced)",
    next: (c) =>
      `wa-warden does not fight it: close the other client (often a second process on the same creds), then \`${wardenCommand(`start ${c}`)}\`.`,
  },
  408: { ...TRANSIENT, what: "the connection was lost or timed out (408)" },
  428: { ...TRANSIENT, what: "the connection was closed (428)" },
  500: {
    ...TRANSIENT,
    what: "the socket closed with 500, Baileys' code for any error that has none (TLS, proxy, clock, stream errors): not evidence of broken keys",
  },
  503: { ...TRANSIENT, what: "WhatsApp was unavailable (503)" },
  515: { ...TRANSIENT, what: "WhatsApp asked for a restart (515, normal right after pairing)" },
});

/** The meaning of a close code; unknown and absent codes are transient. */
export function meaningOf(code: number | null | undefined): CloseCodeMeaning {
  const known = code === null || code === undefined ? undefined : CLOSE_CODE_MEANINGS[code];
  return known ?? { ...TRANSIENT, what: `the socket closed${code ? ` with code ${code}` : ""}` };
}

/** The close code a terminal state stands for (a row written without its code). */
export const STATE_CODES: Readonly<Record<string, number>> = Object.freeze({
  qr_required: 401,
  forbidden: 403,
  outdated_client: 405,
  multidevice_mismatch: 411,
  replaced: 440,
});

/** "close codes seen: 408 connection lost / timed out x3, 428 connection closed x1". */
export function describeCodes(codes: readonly { code: number; n: number }[]): string {
  if (codes.length === 0) return "no close code recorded";
  return `close codes seen: ${codes.map((c) => `${c.code} ${CODE_NAMES[c.code] ?? "unknown"} x${c.n}`).join(", ")}`;
}
