/**
 * A company's liveness as operators see it (status, --json, the bot, the dashboard, metrics): the
 * worker's last verdict, the restriction in force, and the ladder's flapping verdict, which the
 * caller passes in. One state, worst first: deaf, flapping, restricted, quiet, ok; "not_open" while
 * the company's socket is not open and nothing else is known (its connection state says why: a
 * socket that is not open cannot be judged deaf or quiet). Null only while an open socket has no
 * verdict from its worker yet (the first check after it opened).
 */
import type { Problem } from "../alerts/attention.js";
import type { LivenessRow } from "../store/liveness.js";
import { formatSpan } from "./format-span.js";

/** The liveness states shown. */
export type LivenessState = "ok" | "quiet" | "deaf" | "restricted" | "flapping" | "not_open";

/** `liveness` in `status --json` and /api. */
export interface LivenessView {
  state: LivenessState | null;
  lastInboundAt: number | null;
  usualGapMs: number | null;
  silentForMs: number | null;
  restrictedUntil: number | null;
  reason: string | null;
}

/** Whether the ladder sees the company flapping now, and its own words for it. */
export interface FlappingInput {
  flapping: boolean;
  detail: string | null;
}

/** Not flapping (no flapping verdict available). */
export const NOT_FLAPPING: FlappingInput = Object.freeze({ flapping: false, detail: null });

/** Builds the view from the worker's row, the connection state and the flapping verdict. */
export function toLivenessView(
  row: LivenessRow | undefined,
  connectionState: string | null,
  flapping: FlappingInput,
  now: number,
): LivenessView {
  const open = connectionState === "open";
  const restricted =
    row?.restrictedReason != null && (row.restrictedUntil === null || row.restrictedUntil > now)
      ? row.restrictedReason
      : null;
  const silentForMs =
    open && row?.openedAt != null ? Math.max(0, now - Math.max(row.openedAt, row.lastInboundAt ?? 0)) : null;
  const base = {
    lastInboundAt: row?.lastInboundAt ?? null,
    usualGapMs: row?.usualGapMs ?? null,
    silentForMs,
    restrictedUntil: restricted === null ? null : (row?.restrictedUntil ?? null),
  };
  if (open && row?.state === "deaf")
    return {
      ...base,
      state: "deaf",
      reason: `no incoming messages for ${formatSpan(silentForMs ?? 0)}${row.reason ? `; ${row.reason}` : ""}`,
    };
  if (flapping.flapping) return { ...base, state: "flapping", reason: flapping.detail };
  if (restricted !== null) return { ...base, state: "restricted", reason: restricted };
  if (open && row?.state === "quiet") return { ...base, state: "quiet", reason: row.reason };
  if (open && row?.state === "ok") return { ...base, state: "ok", reason: null };
  return { ...base, state: open ? null : "not_open", reason: null };
}

/**
 * "deaf 2 h 10 min", "ok", "restricted until 17:00 UTC" for the LIVENESS column; "-" while not open
 * (the CONNECTION column says why) or not judged yet.
 */
export function describeLiveness(view: LivenessView): string {
  switch (view.state) {
    case null:
    case "not_open":
      return "-";
    case "deaf":
      return `deaf ${formatSpan(view.silentForMs ?? 0)}`;
    case "restricted":
      return view.restrictedUntil === null
        ? "restricted"
        : `restricted until ${new Date(view.restrictedUntil).toISOString().slice(11, 16)} UTC`;
    default:
      return view.state;
  }
}

/**
 * The liveness part of "needs attention": deaf is critical (open but nothing arrives: customers
 * are not heard), restricted and flapping are warnings (WhatsApp limits the account; the
 * connection does not hold); ok and quiet are nothing.
 */
export function livenessProblem(view: LivenessView | undefined): Problem | null {
  if (!view) return null;
  switch (view.state) {
    case "deaf":
      return { source: "liveness", severity: "critical", text: `open but ${describeLiveness(view)}` };
    case "restricted":
    case "flapping":
      return { source: "liveness", severity: "warning", text: describeLiveness(view) };
    default:
      return null;
  }
}
