/**
 * Queries on liveness: per-minute traffic counters (liveness_buckets), the longest inbound gap per
 * company and hour (liveness_gaps, what "usual" is learned from), the current verdict per company
 * (liveness_state, written by the worker holding it), the deaf steps' memory (liveness_ladder,
 * written by the supervisor) and fleet incidents (many companies failing together).
 */
import type { Db } from "./db.js";

/** Traffic counted for one company in one minute. */
export interface LivenessCounts {
  inbound: number;
  receipts: number;
  frames: number;
  sendsOk: number;
  sendsRejected: number;
  /** rejection code → count */
  rejectedCodes: Record<string, number>;
}

/** A liveness state name as stored and shown. */
export type LivenessStateName = "ok" | "quiet" | "deaf" | "restricted" | "unknown";

/** A company's liveness as its worker last judged it. */
export interface LivenessRow {
  company: string;
  openedAt: number | null;
  lastInboundAt: number | null;
  lastReceiptAt: number | null;
  lastFrameAt: number | null;
  lastSendAt: number | null;
  lastSendCode: number | null;
  state: LivenessStateName;
  /** since when `state` holds */
  since: number;
  reason: string | null;
  usualGapMs: number | null;
  silentForMs: number | null;
  thresholdMs: number | null;
  restrictedReason: string | null;
  restrictedUntil: number | null;
  queryAt: number | null;
  queryRttMs: number | null;
  checkedAt: number;
}

/** One WhatsApp-side incident: many companies failing the same way within the window. */
export interface FleetIncident {
  id: number;
  kind: string;
  startedAt: number;
  companies: string[];
  detail: string;
  closedAt: number | null;
  closedBy: string | null;
}

interface StateRecord {
  company: string;
  opened_at: number | null;
  last_inbound_at: number | null;
  last_receipt_at: number | null;
  last_frame_at: number | null;
  last_send_at: number | null;
  last_send_code: number | null;
  state: string;
  since: number;
  reason: string | null;
  usual_gap_ms: number | null;
  silent_for_ms: number | null;
  threshold_ms: number | null;
  restricted_reason: string | null;
  restricted_until: number | null;
  query_at: number | null;
  query_rtt_ms: number | null;
  checked_at: number;
}

function toRow(r: StateRecord): LivenessRow {
  return {
    company: r.company,
    openedAt: r.opened_at,
    lastInboundAt: r.last_inbound_at,
    lastReceiptAt: r.last_receipt_at,
    lastFrameAt: r.last_frame_at,
    lastSendAt: r.last_send_at,
    lastSendCode: r.last_send_code,
    state: r.state as LivenessStateName,
    since: r.since,
    reason: r.reason,
    usualGapMs: r.usual_gap_ms,
    silentForMs: r.silent_for_ms,
    thresholdMs: r.threshold_ms,
    restrictedReason: r.restricted_reason,
    restrictedUntil: r.restricted_until,
    queryAt: r.query_at,
    queryRttMs: r.query_rtt_ms,
    checkedAt: r.checked_at,
  };
}

/**
 * What the ladder's deaf steps read of a company's verdict (src/ladder/decide-deaf.ts DeafFacts):
 * the state and its reason, the last inbound message, the silence and the restriction.
 */
export type DeafFactsRow = Pick<
  LivenessRow,
  "state" | "reason" | "lastInboundAt" | "silentForMs" | "usualGapMs" | "restrictedReason" | "restrictedUntil"
>;

/** A deafFactsBetween row as an array: company, then DeafFactsRow's fields in the query's order. */
type DeafFactsValues = [
  string,
  LivenessStateName,
  string | null,
  number | null,
  number | null,
  number | null,
  string | null,
  number | null,
];

interface IncidentRecord {
  id: number;
  kind: string;
  started_at: number;
  companies: string;
  detail: string;
  closed_at: number | null;
  closed_by: string | null;
}

function toIncident(r: IncidentRecord): FleetIncident {
  return {
    id: r.id,
    kind: r.kind,
    startedAt: r.started_at,
    companies: JSON.parse(r.companies) as string[],
    detail: r.detail,
    closedAt: r.closed_at,
    closedBy: r.closed_by,
  };
}

/** Typed liveness queries: traffic counters and gaps, verdicts, the deaf steps' memory, fleet incidents. */
export function createLivenessQueries(db: Db) {
  return {
    ...trafficQueries(db),
    ...gapQueries(db),
    ...verdictQueries(db),
    ...deafMemoryQueries(db),
    ...fleetIncidentQueries(db),
  };
}

/** Per-minute traffic counters, and the pruning of counters and gaps. */
function trafficQueries(db: Db) {
  const getCodes = db.prepare<[string, number], { rejected_codes: string | null }>(
    "SELECT rejected_codes FROM liveness_buckets WHERE company = ? AND minute = ?",
  );
  const addBucket = db.prepare(`
    INSERT INTO liveness_buckets (company, minute, inbound, receipts, frames, sends_ok, sends_rejected, rejected_codes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (company, minute) DO UPDATE SET inbound = inbound + excluded.inbound,
      receipts = receipts + excluded.receipts, frames = frames + excluded.frames,
      sends_ok = sends_ok + excluded.sends_ok, sends_rejected = sends_rejected + excluded.sends_rejected,
      rejected_codes = excluded.rejected_codes`);
  const inboundSince = db.prepare<[string, number], { n: number | null }>(
    "SELECT SUM(inbound) AS n FROM liveness_buckets WHERE company = ? AND minute >= ?",
  );
  const window = db.prepare<
    [string, number, number],
    {
      inbound: number | null;
      receipts: number | null;
      frames: number | null;
      ok: number | null;
      rejected: number | null;
    }
  >(`SELECT SUM(inbound) AS inbound, SUM(receipts) AS receipts, SUM(frames) AS frames,
       SUM(sends_ok) AS ok, SUM(sends_rejected) AS rejected
     FROM liveness_buckets WHERE company = ? AND minute >= ? AND minute <= ?`);
  const pruneBuckets = db.prepare("DELETE FROM liveness_buckets WHERE minute < ?");
  const pruneGaps = db.prepare("DELETE FROM liveness_gaps WHERE hour < ?");

  const add = db.transaction((company: string, minute: number, c: LivenessCounts) => {
    let codes: string | null = null;
    if (Object.keys(c.rejectedCodes).length > 0) {
      const before = getCodes.get(company, minute)?.rejected_codes;
      const merged: Record<string, number> = before ? (JSON.parse(before) as Record<string, number>) : {};
      for (const [code, n] of Object.entries(c.rejectedCodes)) merged[code] = (merged[code] ?? 0) + n;
      codes = JSON.stringify(merged);
    } else {
      codes = getCodes.get(company, minute)?.rejected_codes ?? null;
    }
    addBucket.run(company, minute, c.inbound, c.receipts, c.frames, c.sendsOk, c.sendsRejected, codes);
  });

  return {
    /** Adds a minute's counts for a company (summed with what is there). */
    add(company: string, minute: number, counts: LivenessCounts): void {
      add(company, minute, counts);
    },
    /** Inbound messages counted since `since`. */
    inboundSince(company: string, since: number): number {
      return inboundSince.get(company, since)?.n ?? 0;
    },
    /** Sums of the buckets starting in [from, to]. */
    window(company: string, from: number, to: number) {
      const r = window.get(company, from, to);
      return {
        inbound: r?.inbound ?? 0,
        receipts: r?.receipts ?? 0,
        frames: r?.frames ?? 0,
        sendsOk: r?.ok ?? 0,
        sendsRejected: r?.rejected ?? 0,
      };
    },
    /** Deletes counters and gaps older than `before`; returns rows deleted. */
    prune(before: number): number {
      return pruneBuckets.run(before).changes + pruneGaps.run(before).changes;
    },
  };
}

/** The longest inbound gap of each company per hour (what "usual" silence is learned from). */
function gapQueries(db: Db) {
  const putGap = db.prepare(`
    INSERT INTO liveness_gaps (company, hour, longest_gap) VALUES (?, ?, ?)
    ON CONFLICT (company, hour) DO UPDATE SET longest_gap = MAX(longest_gap, excluded.longest_gap)`);
  const gapsAt = db.prepare<[string, number, number, number, number, number, number], { g: number | null }>(
    "SELECT MAX(longest_gap) AS g FROM liveness_gaps WHERE company = ? AND hour IN (?, ?, ?, ?, ?, ?)",
  );
  const longestBetween = db.prepare<[string, number, number], { g: number | null }>(
    "SELECT MAX(longest_gap) AS g FROM liveness_gaps WHERE company = ? AND hour >= ? AND hour < ?",
  );
  const oldestHour = db.prepare<[string], { h: number | null }>(
    "SELECT MIN(hour) AS h FROM liveness_gaps WHERE company = ?",
  );
  return {
    /** Raises the longest inbound gap recorded for a company in the hour starting at `hour`. */
    recordGap(company: string, hour: number, gapMs: number): void {
      putGap.run(company, hour, Math.round(gapMs));
    },
    /** The longest gap recorded in any of `hours` (six hour starts), or null. */
    longestGapAt(company: string, hours: readonly number[]): number | null {
      const h = [...hours, ...Array(6).fill(-1)].slice(0, 6) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      return gapsAt.get(company, ...h)?.g ?? null;
    },
    /** The longest gap recorded in the hours starting in [from, to), or null. */
    longestGapBetween(company: string, from: number, to: number): number | null {
      return longestBetween.get(company, from, to)?.g ?? null;
    },
    /** The first hour with a learned gap, or null. */
    oldestGapHour(company: string): number | null {
      return oldestHour.get(company)?.h ?? null;
    },
  };
}

/** Each company's last verdict, and the failures of the fleet since a moment. */
function verdictQueries(db: Db) {
  const putState = db.prepare(`
    INSERT INTO liveness_state (company, opened_at, last_inbound_at, last_receipt_at, last_frame_at, last_send_at,
      last_send_code, state, since, reason, usual_gap_ms, silent_for_ms, threshold_ms, restricted_reason,
      restricted_until, query_at, query_rtt_ms, checked_at)
    VALUES (@company, @opened_at, @last_inbound_at, @last_receipt_at, @last_frame_at, @last_send_at,
      @last_send_code, @state, @since, @reason, @usual_gap_ms, @silent_for_ms, @threshold_ms, @restricted_reason,
      @restricted_until, @query_at, @query_rtt_ms, @checked_at)
    ON CONFLICT (company) DO UPDATE SET opened_at = excluded.opened_at, last_inbound_at = excluded.last_inbound_at,
      last_receipt_at = excluded.last_receipt_at, last_frame_at = excluded.last_frame_at,
      last_send_at = excluded.last_send_at, last_send_code = excluded.last_send_code, state = excluded.state,
      since = excluded.since, reason = excluded.reason, usual_gap_ms = excluded.usual_gap_ms,
      silent_for_ms = excluded.silent_for_ms, threshold_ms = excluded.threshold_ms,
      restricted_reason = excluded.restricted_reason, restricted_until = excluded.restricted_until,
      query_at = excluded.query_at, query_rtt_ms = excluded.query_rtt_ms, checked_at = excluded.checked_at`);
  const getState = db.prepare<[string], StateRecord>("SELECT * FROM liveness_state WHERE company = ?");
  const allStates = db.prepare<[], StateRecord>("SELECT * FROM liveness_state ORDER BY company");
  // Only the rows the deaf steps can act on (decide-deaf.ts): with no memory of its own (no
  // liveness_ladder row) a company's steps start only from a deaf verdict or a restriction, so the
  // other rows are not read (at 10,000 companies reading every verdict was a fifth of a ladder
  // pass). Rows as arrays (raw): a third cheaper than better-sqlite3's named rows.
  const deafFactsBetween = db
    .prepare<[string, string], DeafFactsValues>(
      `SELECT s.company, s.state, s.reason, s.last_inbound_at, s.silent_for_ms, s.usual_gap_ms,
         s.restricted_reason, s.restricted_until
       FROM liveness_state s WHERE s.company > ? AND s.company <= ?
         AND (s.state = 'deaf' OR s.restricted_reason IS NOT NULL
           OR EXISTS (SELECT 1 FROM liveness_ladder l WHERE l.company = s.company))`,
    )
    .raw(true);
  const deafSince = db.prepare<[number], { company: string; at: number }>(
    "SELECT company, since AS at FROM liveness_state WHERE state = 'deaf' AND since >= ? ORDER BY since",
  );
  const logoutsSince = db.prepare<[number], { company: string; at: number }>(`
    SELECT company, MIN(at) AS at FROM transitions INDEXED BY transitions_at
    WHERE at >= ? AND (code = 401 OR to_state = 'qr_required') GROUP BY company ORDER BY at`);
  const stormsSince = db.prepare<[number], { company: string; at: number }>(
    "SELECT company, since AS at FROM signal_alert_state WHERE active = 1 AND since >= ? ORDER BY since",
  );
  return {
    /** Stores a company's liveness verdict and last traffic times. */
    putState(row: LivenessRow): void {
      putState.run({
        company: row.company,
        opened_at: row.openedAt,
        last_inbound_at: row.lastInboundAt,
        last_receipt_at: row.lastReceiptAt,
        last_frame_at: row.lastFrameAt,
        last_send_at: row.lastSendAt,
        last_send_code: row.lastSendCode,
        state: row.state,
        since: row.since,
        reason: row.reason,
        usual_gap_ms: row.usualGapMs,
        silent_for_ms: row.silentForMs,
        threshold_ms: row.thresholdMs,
        restricted_reason: row.restrictedReason,
        restricted_until: row.restrictedUntil,
        query_at: row.queryAt,
        query_rtt_ms: row.queryRttMs,
        checked_at: row.checkedAt,
      });
    },
    /** A company's last liveness verdict (undefined: never judged). */
    get(company: string): LivenessRow | undefined {
      const r = getState.get(company);
      return r ? toRow(r) : undefined;
    },
    /**
     * The deaf steps' facts of the companies with `after < id <= last` (one range read), by company:
     * only those with a deaf verdict, a restriction or a liveness_ladder row (see the query).
     */
    deafFactsBetween(after: string, last: string): Map<string, DeafFactsRow> {
      const rows = new Map<string, DeafFactsRow>();
      // Positions as in the query (DeafFactsValues).
      for (const r of deafFactsBetween.all(after, last))
        rows.set(r[0], {
          state: r[1],
          reason: r[2],
          lastInboundAt: r[3],
          silentForMs: r[4],
          usualGapMs: r[5],
          restrictedReason: r[6],
          restrictedUntil: r[7],
        });
      return rows;
    },
    /** Every company's last liveness verdict, by company. */
    all(): LivenessRow[] {
      return allStates.all().map(toRow);
    },
    /** Companies that failed since `since`, by way: logged out (401 / qr_required), deaf, decrypt storm. */
    failuresSince(since: number): {
      logout: { company: string; at: number }[];
      deaf: { company: string; at: number }[];
      storm: { company: string; at: number }[];
    } {
      return { logout: logoutsSince.all(since), deaf: deafSince.all(since), storm: stormsSince.all(since) };
    },
  };
}

/** The deaf steps' memory of each company. */
function deafMemoryQueries(db: Db) {
  const getMemory = db.prepare<[string], { memory: string }>(
    "SELECT memory FROM liveness_ladder WHERE company = ?",
  );
  const memoryBetween = db.prepare<[string, string], { company: string; memory: string }>(
    "SELECT company, memory FROM liveness_ladder WHERE company > ? AND company <= ?",
  );
  const putMemory = db.prepare(`
    INSERT INTO liveness_ladder (company, memory, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET memory = excluded.memory, updated_at = excluded.updated_at`);
  return {
    /** The deaf steps' memory of a company (JSON), or undefined. */
    ladderMemory(company: string): unknown {
      const r = getMemory.get(company);
      return r ? (JSON.parse(r.memory) as unknown) : undefined;
    },
    /** The deaf steps' memory of the companies with `after < id <= last` (one range read), by company. */
    ladderMemoryBetween(after: string, last: string): Map<string, unknown> {
      const rows = new Map<string, unknown>();
      for (const r of memoryBetween.all(after, last)) rows.set(r.company, JSON.parse(r.memory) as unknown);
      return rows;
    },
    /** Stores the deaf steps' memory of a company. */
    setLadderMemory(company: string, memory: unknown, now: number): void {
      putMemory.run(company, JSON.stringify(memory), now);
    },
  };
}

/** Fleet incidents: opened, joined, closed. */
function fleetIncidentQueries(db: Db) {
  const openIncidents = db.prepare<[], IncidentRecord>(
    "SELECT * FROM fleet_incidents WHERE closed_at IS NULL ORDER BY id",
  );
  const recentIncidents = db.prepare<[number], IncidentRecord>(
    "SELECT * FROM fleet_incidents ORDER BY id DESC LIMIT ?",
  );
  const startIncident = db.prepare(
    "INSERT INTO fleet_incidents (kind, started_at, companies, detail) VALUES (?, ?, ?, ?)",
  );
  const setIncidentCompanies = db.prepare("UPDATE fleet_incidents SET companies = ? WHERE id = ?");
  const closeIncident = db.prepare(
    "UPDATE fleet_incidents SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL",
  );
  return {
    /** Fleet incidents no operator closed yet. */
    openIncidents(): FleetIncident[] {
      return openIncidents.all().map(toIncident);
    },
    /** The newest fleet incidents, newest first. */
    incidents(limit = 20): FleetIncident[] {
      return recentIncidents.all(limit).map(toIncident);
    },
    /** Opens a fleet incident; returns its id. */
    startIncident(kind: string, companies: readonly string[], detail: string, now: number): number {
      return Number(startIncident.run(kind, now, JSON.stringify(companies), detail).lastInsertRowid);
    },
    /** Replaces the companies an open incident holds (more joined it). */
    setIncidentCompanies(id: number, companies: readonly string[]): void {
      setIncidentCompanies.run(JSON.stringify(companies), id);
    },
    /** Closes an open incident; false when it was not open. */
    closeIncident(id: number, by: string, now: number): boolean {
      return closeIncident.run(now, by, id).changes === 1;
    },
  };
}

/** The liveness query set. */
export type LivenessQueries = ReturnType<typeof createLivenessQueries>;
