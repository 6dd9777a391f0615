/**
 * WhatsApp restrictions as rc14 reports them, turned into one "restricted" verdict with a reason and
 * the time it ends when WhatsApp says (pure):
 * - `connection.update` with `reachoutTimeLock` (a notification, or the answer to
 *   fetchAccountReachoutTimelock after a send nacked as SenderReachoutTimelocked): new chats are
 *   blocked until `timeEnforcementEnds`;
 * - `message-capping.update` with capping_status CAPPED: the new-chat message quota is used up
 *   until cycle_end_timestamp (FIRST/SECOND_WARNING only warn);
 * - sends nacked with 463 (no privacy token: "account restricted or missing tctoken") or 479
 *   (smax-invalid). One can be a single contact's missing token, so it takes
 *   REJECTIONS_TO_RESTRICT of them within REJECTION_WINDOW_MS; it ends an hour after the last one.
 * A restriction is never a reason to reconnect or clean: it would not help and looks like automation.
 */

/** A restriction in force. */
export interface Restriction {
  source: "timelock" | "capping" | "rejections";
  reason: string;
  /** when WhatsApp says it ends (null: not said) */
  until: number | null;
}

/** What rc14 put in `connection.update.reachoutTimeLock`. */
export interface TimelockReport {
  isActive?: boolean;
  timeEnforcementEnds?: Date | number | string;
  enforcementType?: string;
}

/** What rc14 emitted as `message-capping.update` (NewChatMessageCapInfo). */
export interface CappingReport {
  total_quota?: number;
  used_quota?: number;
  cycle_end_timestamp?: string;
  capping_status?: string;
}

/** Send rejections that may mean a restriction. */
export const RESTRICTING_CODES: ReadonlySet<number> = new Set([463, 479]);
/** Rejections within REJECTION_WINDOW_MS that make a company restricted. */
export const REJECTIONS_TO_RESTRICT = 3;
/** Window of those rejections. */
export const REJECTION_WINDOW_MS = 10 * 60_000;
/** A rejection restriction ends this long after the last rejection. */
export const REJECTION_LIFT_MS = 3_600_000;

/** A timelock report as a restriction (null: lifted, or already ended). */
export function fromTimelock(report: TimelockReport, now: number): Restriction | null {
  if (!report.isActive) return null;
  const ends =
    report.timeEnforcementEnds === undefined ? null : new Date(report.timeEnforcementEnds).getTime();
  const until = ends !== null && Number.isFinite(ends) ? ends : null;
  if (until !== null && until <= now) return null;
  const type =
    report.enforcementType && report.enforcementType !== "DEFAULT" ? ` (${report.enforcementType})` : "";
  return { source: "timelock", reason: `reachout timelock${type}: new chats blocked by WhatsApp`, until };
}

/** A capping report as a restriction (null: not capped). */
export function fromCapping(report: CappingReport, now: number): Restriction | null {
  if (report.capping_status !== "CAPPED") return null;
  const end = report.cycle_end_timestamp ? Number(report.cycle_end_timestamp) * 1000 : Number.NaN;
  const until = Number.isFinite(end) && end > now ? end : null;
  const quota =
    report.used_quota !== undefined && report.total_quota !== undefined
      ? ` (${report.used_quota}/${report.total_quota} used)`
      : "";
  return { source: "capping", reason: `message capping: new-chat quota used up${quota}`, until };
}

/** Recent restricting rejections (463/479) as a restriction, or null. */
export function fromRejections(
  rejections: readonly { at: number; code: number }[],
  now: number,
): Restriction | null {
  const recent = rejections.filter((r) => RESTRICTING_CODES.has(r.code));
  const last = recent.at(-1);
  if (!last || now - last.at >= REJECTION_LIFT_MS) return null;
  // The newest burst: REJECTIONS_TO_RESTRICT within the window, ending at or before the last one.
  for (let i = recent.length - 1; i >= REJECTIONS_TO_RESTRICT - 1; i--) {
    const burst = recent.slice(i - REJECTIONS_TO_RESTRICT + 1, i + 1);
    if ((burst.at(-1)?.at ?? 0) - (burst[0]?.at ?? 0) > REJECTION_WINDOW_MS) continue;
    const counts = new Map<number, number>();
    for (const r of recent)
      if (now - r.at < REJECTION_LIFT_MS) counts.set(r.code, (counts.get(r.code) ?? 0) + 1);
    const codes = [...counts].map(([code, n]) => `${code} x${n}`).join(", ");
    return { source: "rejections", reason: `sends rejected by WhatsApp (${codes})`, until: null };
  }
  return null;
}

/** The restriction in force among the sources (timelock first: it says when it ends). */
export function currentRestriction(
  parts: { timelock: Restriction | null; capping: Restriction | null; rejections: Restriction | null },
  now: number,
): Restriction | null {
  for (const r of [parts.timelock, parts.capping, parts.rejections]) {
    if (r && (r.until === null || r.until > now)) return r;
  }
  return null;
}
