/**
 * Which snapshots of a full scan (the reconcile, every scan.reconcileEvery) need counting again. A
 * company's count is a pure function of its snapshot, its settings, its down time and `now`
 * (count-stale.ts), and `now` only matters when an age-ruled file crosses an age of its rule. So the
 * gate remembers, per company, a fingerprint of what it counted and the earliest time a file can
 * cross one of those ages (computed once per count, from the mtimes with the down time taken out):
 * an unchanged company is not counted again before that time. Counts stay exact: a boundary is a
 * lower bound (more down time only moves crossings later), and a company is counted anyway at least
 * every RECOUNT_AT_LEAST_EVERY_MS, at a critical or fatal level (reminders are due by time) and
 * after a config change. Event scans always count.
 */
import { DOWN_HISTORY_MS, type DownInterval, downTimeSince } from "../actions/cleanup/down-time.js";
import { TCTOKEN_MAX_AGE_MS } from "../actions/cleanup/plan-cleanup.js";
import type { CompanySettings } from "../config/schema.js";
import type { FolderSnapshot } from "../fleet/scan-folder.js";
import type { Level } from "../store/alert-state.js";

/** Every unchanged company is still counted this often (the row's scanned_at refresh period). */
export const RECOUNT_AT_LEAST_EVERY_MS = 600_000;

/** The gate; one per supervisor. */
export interface RecountGate {
  /** True when `snapshot` may count differently from its company's last count under `config`. */
  due(snapshot: FolderSnapshot, config: object, now: number): boolean;
  /** True when the company's last count under `config` may no longer hold at `now` by time alone. */
  dueByTime(company: string, config: object, now: number): boolean;
  /** Records the count just made of `snapshot` (its level after the thresholds). */
  counted(
    snapshot: FolderSnapshot,
    config: object,
    settings: Pick<CompanySettings, "cleanup">,
    down: readonly DownInterval[],
    level: Level,
    now: number,
  ): void;
  /** Forgets a company (removed folder): its next snapshot counts. */
  forget(company: string): void;
}

interface Entry {
  fingerprint: string;
  until: number;
}

/** Creates the gate. */
export function createRecountGate(): RecountGate {
  const entries = new Map<string, Entry>();
  let configSeen: object | undefined;
  return {
    due(snapshot, config, now) {
      if (config !== configSeen) {
        entries.clear();
        configSeen = config;
        return true;
      }
      const entry = entries.get(snapshot.company);
      return entry === undefined || now >= entry.until || entry.fingerprint !== fingerprintOf(snapshot);
    },
    dueByTime(company, config, now) {
      const entry = entries.get(company);
      return config !== configSeen || entry === undefined || now >= entry.until;
    },
    counted(snapshot, config, settings, down, level, now) {
      if (config !== configSeen) {
        entries.clear();
        configSeen = config;
      }
      if (level === "critical" || level === "fatal") {
        entries.delete(snapshot.company);
        return;
      }
      const until = nextAgeBoundary(snapshot.mtimes, settings, down, now);
      entries.set(snapshot.company, { fingerprint: fingerprintOf(snapshot), until });
    },
    forget(company) {
      entries.delete(company);
    },
  };
}

/**
 * The earliest time after which a file of `mtimes` may be judged differently: its (down-time
 * adjusted) mtime plus any age a rule uses, or the mtime itself for a file dated in the future;
 * capped at RECOUNT_AT_LEAST_EVERY_MS and at the first down interval leaving the down history.
 */
export function nextAgeBoundary(
  mtimes: ReadonlyMap<string, number>,
  settings: Pick<CompanySettings, "cleanup">,
  down: readonly DownInterval[],
  now: number,
): number {
  const c = settings.cleanup;
  const ages = [
    0,
    c.minAge,
    c.sessionMaxAge,
    c.senderKeyMaxAge,
    c.foreignSenderKeyMaxAge,
    TCTOKEN_MAX_AGE_MS,
  ];
  let until = now + RECOUNT_AT_LEAST_EVERY_MS;
  for (const interval of down) until = Math.min(until, interval.from + DOWN_HISTORY_MS);
  for (const raw of mtimes.values()) {
    if (!Number.isFinite(raw)) continue;
    const mtime = down.length === 0 ? raw : raw + downTimeSince(down, raw, now);
    for (const age of ages) {
      // `>=`: at exactly mtime + age the file is not over the age yet; the next scan is.
      const at = mtime + age;
      if (at >= now && at < until) until = at;
    }
  }
  return until;
}

/** Everything of a snapshot that its count and its row depend on, in one string. */
function fingerprintOf(s: FolderSnapshot): string {
  let names = 0;
  for (const name of s.names) names += name.length;
  let mtimes = 0;
  for (const m of s.mtimes.values()) mtimes = (mtimes * 31 + m) % 9_007_199_254_740_881;
  return [
    s.total,
    names,
    s.mtimes.size,
    mtimes,
    s.newestWriteAt,
    s.preKeys,
    s.maxPreKeyId,
    s.newestPreKeyId,
    s.ownUsers?.join(",") ?? "-",
    s.creds.state,
    s.creds.error ?? "",
    s.irregular.map((e) => `${e.name}:${e.kind}`).join("/"),
    s.store ?? "files",
  ].join("|");
}
