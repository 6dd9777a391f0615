/**
 * Is an open company deaf? Pure and O(1) per company: a few numbers from the worker's counters and
 * the learned rhythm (rhythm.ts), the settings, now. An open company that has received nothing for
 * longer than max(liveness.silentAfter, gapFactor x its usual longest gap at this hour of the week)
 * is deaf; one without inbound history is quiet, never deaf (a new number, a company closed at
 * night). Silence is counted from the later of the last incoming message and the socket's open:
 * a gap spanning a worker restart or a reconnect is not silence. Before calling a company deaf the
 * worker asks WhatsApp a ping (the cheapest query it must answer): past half the threshold a ping
 * with no answer makes it deaf at once; at the threshold an answered ping confirms the socket is
 * alive but hears nothing.
 */

/** The detector's settings (the company's `liveness` section). */
export interface DeafSettings {
  silentAfter: number;
  gapFactor: number;
  queryTimeout: number;
}

/** The last ping asked of this socket. */
export interface PingResult {
  at: number;
  /** round trip in ms, null: no answer within queryTimeout */
  rttMs: number | null;
}

/** What the detector reads for one company. */
export interface DeafInput {
  /** when this socket opened (null: not open) */
  openedAt: number | null;
  lastInboundAt: number | null;
  /** any incoming message in the learned history (14 days) */
  hadInbound: boolean;
  /** usual longest gap at this hour of the week (null: nothing learned) */
  usualGapMs: number | null;
  settings: DeafSettings;
  lastPing: PingResult | null;
}

/** The detector's verdict. */
export interface DeafVerdict {
  state: "ok" | "quiet" | "deaf" | "unknown";
  silentForMs: number | null;
  thresholdMs: number | null;
  /** ask WhatsApp a ping now (the verdict may change with its answer) */
  ask: boolean;
  reason: string | null;
}

/** The threshold of silence past which a company is deaf. */
export function deafThreshold(settings: DeafSettings, usualGapMs: number | null): number {
  return Math.max(settings.silentAfter, settings.gapFactor * (usualGapMs ?? 0));
}

/** Judges one company at `now`. */
export function detectDeaf(input: DeafInput, now: number): DeafVerdict {
  const { openedAt, lastInboundAt, settings, lastPing } = input;
  if (openedAt === null)
    return { state: "unknown", silentForMs: null, thresholdMs: null, ask: false, reason: null };
  const from = Math.max(openedAt, lastInboundAt ?? Number.NEGATIVE_INFINITY);
  const silentForMs = Math.max(0, now - from);
  if (!input.hadInbound)
    return {
      state: "quiet",
      silentForMs,
      thresholdMs: null,
      ask: false,
      reason: "no incoming messages in 14 days",
    };
  const thresholdMs = deafThreshold(settings, input.usualGapMs);
  const half = from + thresholdMs / 2;
  const pingSince = (t: number) => lastPing !== null && lastPing.at >= t;
  if (lastPing !== null && lastPing.rttMs === null && lastPing.at >= from) {
    return {
      state: "deaf",
      silentForMs,
      thresholdMs,
      ask: false,
      reason: `WhatsApp did not answer a ping within ${Math.round(settings.queryTimeout / 1000)} s`,
    };
  }
  if (silentForMs >= thresholdMs) {
    if (!pingSince(from + thresholdMs))
      return { state: "ok", silentForMs, thresholdMs, ask: true, reason: null };
    return {
      state: "deaf",
      silentForMs,
      thresholdMs,
      ask: false,
      reason: `WhatsApp answers pings (${lastPing?.rttMs} ms) but delivers no incoming messages`,
    };
  }
  return { state: "ok", silentForMs, thresholdMs, ask: now >= half && !pingSince(half), reason: null };
}

/**
 * How far the wall clock jumped between two checks, measured against a monotonic clock: 0 when
 * both advanced alike (within a minute). A jump must not make silence (or end it).
 */
export function clockJump(prevWall: number, prevMono: number, wall: number, mono: number): number {
  const skew = wall - prevWall - (mono - prevMono);
  return Math.abs(skew) > 60_000 ? skew : 0;
}
