/** The connection states workers report, shared by the workers, the ladder and the supervisor. */

/** Connection states a company can be in. */
export type ConnectionStateName =
  | "connecting"
  | "open"
  | "reconnecting"
  | "pairing"
  | "stopped"
  | "offline"
  | "replaced"
  | "qr_required"
  | "forbidden"
  | "multidevice_mismatch"
  | "outdated_client"
  | "auth_store_failed";

/** States that stop the reconnect loop until a human acts. */
export const TERMINAL_STATES: ReadonlySet<ConnectionStateName> = new Set([
  "replaced",
  "qr_required",
  "forbidden",
  "multidevice_mismatch",
  "outdated_client",
  // The auth database failed (gone, full, wrong key, a tampered row): stopped, never re-paired.
  "auth_store_failed",
]);
