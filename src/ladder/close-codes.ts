/** Baileys close codes as an operator reads them in a "human needed" alert. */

/** Baileys DisconnectReason names, for the codes an operator sees in a "human needed" alert. */
const CODE_NAMES: Record<number, string> = {
  401: "logged out",
  403: "forbidden",
  408: "connection lost / timed out",
  411: "multidevice mismatch",
  428: "connection closed",
  440: "connection replaced",
  500: "bad session",
  503: "WhatsApp unavailable",
  515: "restart required",
};

/** "close codes seen: 408 connection lost / timed out x3, 428 connection closed x1". */
export function describeCodes(codes: readonly { code: number; n: number }[]): string {
  if (codes.length === 0) return "no close code recorded";
  return `close codes seen: ${codes.map((c) => `${c.code} ${CODE_NAMES[c.code] ?? "unknown"} x${c.n}`).join(", ")}`;
}
