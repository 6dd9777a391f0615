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
  | "outdated_client";

/** States that stop the reconnect loop until a human acts. */
export const TERMINAL_STATES: ReadonlySet<ConnectionStateName> = new Set([
  "replaced",
  "qr_required",
  "forbidden",
  "multidevice_mismatch",
  "outdated_client",
]);
