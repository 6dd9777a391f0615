/**
 * Queries on signal_buckets / signal_peers (per company, per minute, by kind and reason; peers only
 * as hashes) and signal_alert_state (whether a company's decrypt-failure alert is raised).
 */
import { randomBytes } from "node:crypto";
import type { Db } from "./db.js";

const PEER_SALT = "peer-hash-salt";

/** Counts added for one company and minute. */
export interface SignalCount {
  kind: string;
  reason: string;
  count: number;
}

/** A hashed peer's failures in one minute. */
export interface PeerCount {
  peer: string;
  reason: string;
  count: number;
}

/** A company's signals over a window. */
export interface SignalWindow {
  /** kind → reason → count. */
  byKind: Record<string, Record<string, number>>;
  /** Hashed peers with the most decrypt failures, most first. */
  topPeers: { peer: string; count: number }[];
}

/** Whether a company's signal alert is raised. */
export interface SignalAlertState {
  active: boolean;
  since: number;
  lastAlertAt: number | null;
}

/** Typed signal queries. */
export function createSignalQueries(db: Db) {
  const putSecret = db.prepare("INSERT OR IGNORE INTO installation_secrets (name, value) VALUES (?, ?)");
  const getSecret = db.prepare<[string], { value: string }>(
    "SELECT value FROM installation_secrets WHERE name = ?",
  );
  let salt: string | undefined;
  const addCount = db.prepare(`
    INSERT INTO signal_buckets (company, minute, kind, reason, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company, minute, kind, reason) DO UPDATE SET count = count + excluded.count`);
  const addPeer = db.prepare(`
    INSERT INTO signal_peers (company, minute, peer, reason, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company, minute, peer, reason) DO UPDATE SET count = count + excluded.count`);
  const byReason = db.prepare<[string, number, number], { kind: string; reason: string; n: number }>(`
    SELECT kind, reason, SUM(count) AS n FROM signal_buckets
    WHERE company = ? AND minute >= ? AND minute <= ? GROUP BY kind, reason ORDER BY n DESC, reason`);
  const topPeers = db.prepare<[string, number, number, number], { peer: string; n: number }>(`
    SELECT peer, SUM(count) AS n FROM signal_peers
    WHERE company = ? AND minute >= ? AND minute <= ? GROUP BY peer ORDER BY n DESC, peer LIMIT ?`);
  const peerReasons = db.prepare<[string, string, number, number], { peer: string; n: number }>(`
    SELECT peer, SUM(count) AS n FROM signal_peers
    WHERE company = ? AND reason = ? AND minute >= ? AND minute <= ? GROUP BY peer ORDER BY n DESC, peer`);
  const companies = db.prepare<[number], { company: string }>(
    "SELECT DISTINCT company FROM signal_buckets WHERE minute >= ? ORDER BY company",
  );
  const fleetDecrypt = db.prepare<[number, number], { company: string; minute: number; n: number }>(`
    SELECT company, minute, SUM(count) AS n FROM signal_buckets
    WHERE kind = 'decrypt-failure' AND minute >= ? AND minute <= ? GROUP BY company, minute ORDER BY company, minute`);
  const pruneBuckets = db.prepare("DELETE FROM signal_buckets WHERE minute < ?");
  const prunePeers = db.prepare("DELETE FROM signal_peers WHERE minute < ?");
  const getAlert = db.prepare<[string], { active: number; since: number; last_alert_at: number | null }>(
    "SELECT active, since, last_alert_at FROM signal_alert_state WHERE company = ?",
  );
  const putAlert = db.prepare(`
    INSERT INTO signal_alert_state (company, active, since, last_alert_at, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET active = excluded.active, since = excluded.since,
      last_alert_at = excluded.last_alert_at, updated_at = excluded.updated_at`);
  const activeAlerts = db.prepare<[], { company: string }>(
    "SELECT company FROM signal_alert_state WHERE active = 1 ORDER BY company",
  );
  const add = db.transaction((company: string, minute: number, counts: SignalCount[], peers: PeerCount[]) => {
    for (const c of counts) addCount.run(company, minute, c.kind, c.reason, c.count);
    for (const p of peers) addPeer.run(company, minute, p.peer, p.reason, p.count);
  });
  return {
    /**
     * This installation's salt for peer hashes (created once, random, kept in the database): a
     * phone number's hash cannot be looked up in a table computed elsewhere.
     */
    peerSalt(): string {
      if (salt === undefined) {
        putSecret.run(PEER_SALT, randomBytes(32).toString("hex"));
        salt = (getSecret.get(PEER_SALT) as { value: string }).value;
      }
      return salt;
    },
    /** Adds counts to a company's minute bucket (summed with what is there). */
    add(company: string, minute: number, counts: SignalCount[], peers: PeerCount[] = []): void {
      add(company, minute, counts, peers);
    },
    /** Signals of buckets starting in [from, to]; `top` hashed peers. */
    window(company: string, from: number, to: number, top = 5): SignalWindow {
      const byKind: SignalWindow["byKind"] = {};
      for (const row of byReason.all(company, from, to)) {
        const reasons = byKind[row.kind] ?? {};
        reasons[row.reason] = row.n;
        byKind[row.kind] = reasons;
      }
      return {
        byKind,
        // top 0 (the ladder's evidence): no peer query at all.
        topPeers:
          top > 0 ? topPeers.all(company, from, to, top).map((r) => ({ peer: r.peer, count: r.n })) : [],
      };
    },
    /** Hashed peers with failures of `reason` in [from, to], most first. */
    peersWith(company: string, reason: string, from: number, to: number): { peer: string; count: number }[] {
      return peerReasons.all(company, reason, from, to).map((r) => ({ peer: r.peer, count: r.n }));
    },
    /**
     * Decrypt failures of every company per minute bucket starting in [from, to], in one query (the
     * fleet table and /api: one query for the fleet, not one per company). Per minute, so each
     * company's own `signals.alertAt.window` can be applied to it.
     */
    fleetDecryptFailures(from: number, to: number): Map<string, { minute: number; count: number }[]> {
      const out = new Map<string, { minute: number; count: number }[]>();
      for (const row of fleetDecrypt.all(from, to)) {
        const minutes = out.get(row.company) ?? [];
        minutes.push({ minute: row.minute, count: row.n });
        out.set(row.company, minutes);
      }
      return out;
    },
    /** Companies with any signal since `from`. */
    companiesSince(from: number): string[] {
      return companies.all(from).map((r) => r.company);
    },
    /** Deletes buckets older than `before`; returns rows deleted. */
    prune(before: number): number {
      return pruneBuckets.run(before).changes + prunePeers.run(before).changes;
    },
    /** A company's signal alert state (undefined: never raised). */
    alertState(company: string): SignalAlertState | undefined {
      const row = getAlert.get(company);
      return row ? { active: row.active === 1, since: row.since, lastAlertAt: row.last_alert_at } : undefined;
    },
    /** Stores a company's signal alert state. */
    putAlertState(company: string, state: SignalAlertState, now: number): void {
      putAlert.run(company, state.active ? 1 : 0, state.since, state.lastAlertAt, now);
    },
    /** Companies whose signal alert is raised. */
    activeAlerts(): string[] {
      return activeAlerts.all().map((r) => r.company);
    },
  };
}

/** The signal query set. */
export type SignalQueries = ReturnType<typeof createSignalQueries>;
