/** Durations as an operator reads them in liveness alerts and status: "2 h 10 min", "6 min", "45 s". */

/** "2 h 10 min", "3 d 4 h", "6 min", "45 s" (two units at most, rounded down). */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** An instant as "2026-12-02 17:00 UTC". */
export function formatInstant(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
