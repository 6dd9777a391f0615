/**
 * Evidence that a company's key files are broken: the only thing that may lead the ladder to a
 * reset, and only with `ladder.autoReset`. What files can cause, read in Baileys rc14:
 * - logging in reads creds.json alone (`Socket/socket.js` validateConnection: noise key, signed
 *   identity, registration); Baileys never lists the auth folder, and a failure after `success`
 *   (pre-key upload, passive iq) is caught and logged, the connection still opens. So no key file
 *   (pre-key, session, sender-key, device-list...) can keep a socket from connecting, and deleting
 *   them cannot make a down company connect. creds.json is never deleted (it is restored from
 *   snapshots when missing);
 * - once connected, a broken session or pre-key shows as decrypt failures ("Bad MAC", "No session
 *   record", "Invalid PreKey ID"): a decrypt-failure storm reported by signal health is the one
 *   piece of evidence a file can produce.
 * A 500 close is NOT evidence: rc14 turns every stream error without a code and every WebSocket
 * error whose code does not start with "E" into 500 (`Utils/generics.js` getErrorCodeFromStreamError,
 * getCodeFromWSError): a TLS-inspecting proxy, a wrong clock, a stream error with an <ack/> child.
 * The 500 count is kept only to describe what was seen.
 */

/** What the ladder knows about a company's key files in this episode. */
export interface KeyStateEvidence {
  /** 500 closes seen in the current down episode: described to the operator, never evidence. */
  readonly badSessionCloses: number;
  /** Decrypt-failure storm from signal health, null when none / unknown. */
  readonly decryptStorm: {
    readonly failures: number;
    readonly byReason: Readonly<Record<string, number>>;
  } | null;
}

/** How much evidence is enough. */
export interface KeyStateEvidenceSettings {
  /** Decrypt failures of a reported storm that make the key files suspect. */
  readonly minDecryptFailures: number;
}

/** Any reported storm (signals.alertAt already decided it is one). */
export const DEFAULT_EVIDENCE_SETTINGS: KeyStateEvidenceSettings = Object.freeze({
  minDecryptFailures: 1,
});

/** No evidence at all. */
export const NO_EVIDENCE: KeyStateEvidence = Object.freeze({ badSessionCloses: 0, decryptStorm: null });

/** True when something the key files can cause was seen: a decrypt-failure storm. Never 500 closes. */
export function hasKeyStateEvidence(
  e: KeyStateEvidence,
  settings: KeyStateEvidenceSettings = DEFAULT_EVIDENCE_SETTINGS,
): boolean {
  return e.decryptStorm !== null && e.decryptStorm.failures >= settings.minDecryptFailures;
}

/** "decrypt failures: 14 (No session record 10, Invalid PreKey ID 4)". */
export function describeEvidence(e: KeyStateEvidence): string {
  if (e.decryptStorm === null) return "no key-state evidence";
  const reasons = Object.entries(e.decryptStorm.byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
  return `decrypt failures: ${e.decryptStorm.failures}${reasons ? ` (${reasons})` : ""}`;
}
