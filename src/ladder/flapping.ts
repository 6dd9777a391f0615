/**
 * Flapping, pure: a company whose connections open and close again before `ladder.stableAfter`.
 * Such a short connection is not a recovery: it neither ends the down episode nor resets the
 * ladder's budget (a company open one minute in eight would otherwise start a fresh episode, with
 * fresh alerts, eight times an hour, or never reach its "human needed" alert). Read from the
 * connection history (the transitions table), oldest first.
 */

/** One recorded connection change, as the transitions table holds it. */
export interface ConnectionEvent {
  /** the state entered ("open", "reconnecting", ...) */
  to: string;
  /** the close code that ended the previous state, when there was one */
  code: number | null;
  at: number;
}

/** A connection that closed before it became stable. */
export interface Flap {
  openedAt: number;
  closedAt: number;
  /** the close code that ended it (null: none recorded) */
  code: number | null;
}

/** The settings flapping is judged by (a subset of the company's `ladder` section). */
export interface FlapSettings {
  stableAfter: number;
  flapAlertAt: number;
}

/** The window flaps are counted in. */
export const FLAP_WINDOW_MS = 3_600_000;

/** Connections in `events` that closed within `window` before `now` after less than stableAfter open. */
export function flapsOf(
  events: readonly ConnectionEvent[],
  now: number,
  stableAfter: number,
  window: number = FLAP_WINDOW_MS,
): Flap[] {
  const flaps: Flap[] = [];
  let openedAt: number | null = null;
  for (const e of events) {
    if (e.to === "open") {
      openedAt ??= e.at;
      continue;
    }
    if (openedAt !== null && e.at - openedAt < stableAfter && now - e.at < window)
      flaps.push({ openedAt, closedAt: e.at, code: e.code });
    openedAt = null;
  }
  return flaps;
}

/**
 * When the current down episode began: the last close that followed a stable connection (or the
 * first event seen), so short connections in between do not start a new episode. `downSince` is
 * the store's value (the last close); it is returned when the history says nothing else.
 */
export function episodeStartOf(
  events: readonly ConnectionEvent[],
  downSince: number,
  stableAfter: number,
): number {
  let start: number | null = null;
  let openedAt: number | null = null;
  for (const e of events) {
    if (e.to === "open") {
      openedAt ??= e.at;
      continue;
    }
    if (openedAt !== null) {
      // A stable connection ended: a new episode starts with this close.
      if (e.at - openedAt >= stableAfter) start = e.at;
      openedAt = null;
    } else if (start === null) start = e.at;
  }
  if (openedAt !== null) return downSince; // open now: the store's own downSince answers
  return start === null ? downSince : Math.min(start, downSince);
}

/**
 * True when the company flapped at least `flapAlertAt` times in the last hour and has not been
 * stable since (the liveness view and the ladder's "flapping" alert use the same rule).
 */
export function isFlapping(events: readonly ConnectionEvent[], now: number, settings: FlapSettings): boolean {
  const last = events.at(-1);
  if (last?.to === "open" && now - last.at >= settings.stableAfter) return false;
  return flapsOf(events, now, settings.stableAfter).length >= settings.flapAlertAt;
}

/** "5 connections in the last hour closed within 2m (428 x3, 500 x2): open 40s, 1m, 55s, 1m, 30s". */
export function describeFlaps(flaps: readonly Flap[], formatDuration: (ms: number) => string): string {
  const codes = new Map<string, number>();
  for (const f of flaps) {
    const key = f.code === null ? "no code" : String(f.code);
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  const byCode = [...codes].map(([c, n]) => `${c} x${n}`).join(", ");
  const durations = flaps.map((f) => formatDuration(f.closedAt - f.openedAt)).join(", ");
  return `${flaps.length} connection${flaps.length === 1 ? "" : "s"} closed again before they were stable (close codes ${byCode}; open ${durations})`;
}
