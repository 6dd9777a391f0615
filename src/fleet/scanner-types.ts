/**
 * The scanner's vocabulary, shared by the scanner, its watcher and its reconcile scan (a file of
 * its own so the three import it, not each other: no import cycle).
 */

/** Something the operator should hear about once (not on every scan). */
export interface ScannerReport {
  kind: "watcher-fallback" | "irregular-entry" | "invalid-folder" | "scan-failed";
  message: string;
  company?: string;
}

/** How the scanner currently learns about changes. */
export type ScannerMode = "events" | "scan-only";
