/**
 * Evidence that a company's key state is broken: the only thing that may lead the ladder to a
 * reset (issue 8). A file count never does: a reset costs every contact a retry round trip and
 * cannot fix a network, a WhatsApp outage or a logged-out device. Two sources:
 * - 500 (badSession) closes: Baileys could not use its sessions;
 * - a decrypt-failure storm reported by signal health (issue 14), plugged in by the runner's
 *   KeyStateEvidenceSource (store-evidence.ts).
 */

/** Why the ladder may believe a company's key state is broken (issue 8 / issue 14). */
export interface KeyStateEvidence {
  /** 500 (badSession) closes seen in the current down episode (or recent window). */
  readonly badSessionCloses: number;
  /** Decrypt-failure storm from signal health, null when none / unknown. */
  readonly decryptStorm: {
    readonly failures: number;
    readonly byReason: Readonly<Record<string, number>>;
  } | null;
}

/** How much evidence is enough. */
export interface KeyStateEvidenceSettings {
  /** 500 closes in the episode that make the key state suspect. */
  readonly minBadSessionCloses: number;
  /** Decrypt failures of a reported storm that make it suspect. */
  readonly minDecryptFailures: number;
}

/** Two 500 closes (one can be a glitch the worker's reconnect fixes); any reported storm. */
export const DEFAULT_EVIDENCE_SETTINGS: KeyStateEvidenceSettings = Object.freeze({
  minBadSessionCloses: 2,
  minDecryptFailures: 1,
});

/** No evidence at all. */
export const NO_EVIDENCE: KeyStateEvidence = Object.freeze({ badSessionCloses: 0, decryptStorm: null });

/** True when the evidence says the key state is broken enough to justify a reset. */
export function hasKeyStateEvidence(
  e: KeyStateEvidence,
  settings: KeyStateEvidenceSettings = DEFAULT_EVIDENCE_SETTINGS,
): boolean {
  if (e.badSessionCloses >= settings.minBadSessionCloses) return true;
  return e.decryptStorm !== null && e.decryptStorm.failures >= settings.minDecryptFailures;
}

/** "2 badSession (500) closes; decrypt failures: 14 (No session record 10, Invalid PreKey ID 4)". */
export function describeEvidence(e: KeyStateEvidence): string {
  const parts: string[] = [];
  if (e.badSessionCloses > 0) parts.push(`${e.badSessionCloses} badSession (500) closes`);
  if (e.decryptStorm !== null) {
    const reasons = Object.entries(e.decryptStorm.byReason)
      .map(([r, n]) => `${r} ${n}`)
      .join(", ");
    parts.push(`decrypt failures: ${e.decryptStorm.failures}${reasons ? ` (${reasons})` : ""}`);
  }
  return parts.length === 0 ? "no key-state evidence" : parts.join("; ");
}
