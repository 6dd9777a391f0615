/**
 * Counts a worker's signals per company in memory and writes them to SQLite as per-minute buckets:
 * the flood guard (invariant 22). Baileys can log Bad MAC failures by the hundred thousand in a couple
 * of hours and exhaust a heap (Baileys issue 2234); here a failure costs one Map increment, peers
 * are capped per minute, and the log gets ONE summary line per company per minute instead of each
 * stack trace. Peers are kept only as a short hash of the jid (never the number itself).
 */
import type { Clock } from "../clock.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { SignalQueries } from "../store/signals.js";
import type { Signal, SignalKind } from "./classify-signal.js";
import { hashPeer } from "./hash-peer.js";

/** Where signals go: the worker's recorder (drivers only see this). */
export interface SignalSink {
  /** Counts one signal for a company. */
  record(company: string, signal: Signal): void;
}

/** One minute length, the bucket size. */
export const MINUTE = 60_000;

/** Distinct peers kept per company per minute; more are counted under `other`. */
const MAX_PEERS_PER_MINUTE = 200;

interface CompanyCounts {
  minute: number;
  /** `kind\u0000reason` → count not yet written. */
  pending: Map<string, number>;
  /** `peer\u0000reason` → count not yet written (decrypt failures only). */
  pendingPeers: Map<string, number>;
  /** Totals of this minute for its summary line. */
  totals: Map<SignalKind, Map<string, number>>;
  suppressed: number;
}

/** What the recorder needs. */
export interface SignalRecorderOptions {
  signals: SignalQueries;
  clock: Clock;
  logger: Logger;
}

/** The recorder: a sink plus flush / close for the worker's heartbeat and shutdown. */
export interface SignalRecorder extends SignalSink {
  /** Counts a line the flood guard kept out of the log (in the minute's summary). */
  suppressed(company: string): void;
  /** Writes pending counts; summarises minutes that ended. Never throws. */
  flush(): void;
  /** Flushes and summarises everything. Idempotent. */
  close(): void;
}

/** Creates a signal recorder. */
export function createSignalRecorder(options: SignalRecorderOptions): SignalRecorder {
  const { signals, clock, logger } = options;
  const companies = new Map<string, CompanyCounts>();
  let closed = false;

  const countsFor = (company: string, now: number): CompanyCounts => {
    const minute = Math.floor(now / MINUTE) * MINUTE;
    let c = companies.get(company);
    if (c && c.minute !== minute) {
      writePending(signals, logger, company, c);
      logSummary(logger, company, c);
      c = undefined;
    }
    if (!c) {
      c = freshCounts(minute);
      companies.set(company, c);
    }
    return c;
  };

  const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

  return {
    record(company, signal) {
      if (closed) return;
      const c = countsFor(company, clock.now());
      bump(c.pending, `${signal.kind}\u0000${signal.reason}`);
      let reasons = c.totals.get(signal.kind);
      if (!reasons) {
        reasons = new Map();
        c.totals.set(signal.kind, reasons);
      }
      bump(reasons, signal.reason);
      if (signal.kind === "decrypt-failure" && signal.peer) {
        const key = `${hashPeer(signal.peer, options.signals.peerSalt())}\u0000${signal.reason}`;
        bump(
          c.pendingPeers,
          c.pendingPeers.has(key) || c.pendingPeers.size < MAX_PEERS_PER_MINUTE
            ? key
            : `other\u0000${signal.reason}`,
        );
      }
    },
    suppressed(company) {
      if (closed) return;
      countsFor(company, clock.now()).suppressed++;
    },
    flush() {
      const now = clock.now();
      const minute = Math.floor(now / MINUTE) * MINUTE;
      for (const [company, c] of [...companies]) {
        writePending(signals, logger, company, c);
        if (c.minute !== minute) {
          logSummary(logger, company, c);
          companies.delete(company);
        }
      }
    },
    close() {
      if (closed) return;
      for (const [company, c] of companies) {
        writePending(signals, logger, company, c);
        logSummary(logger, company, c);
      }
      companies.clear();
      closed = true;
    },
  };
}

/** An empty minute of counts. */
function freshCounts(minute: number): CompanyCounts {
  return { minute, pending: new Map(), pendingPeers: new Map(), totals: new Map(), suppressed: 0 };
}

/** Writes a company's pending counts of its minute to the store and clears them. Never throws. */
function writePending(signals: SignalQueries, logger: Logger, company: string, c: CompanyCounts): void {
  if (c.pending.size === 0 && c.pendingPeers.size === 0) return;
  const counts = [...c.pending].map(([key, count]) => {
    const [kind, reason] = key.split("\u0000") as [string, string];
    return { kind, reason, count };
  });
  const peers = [...c.pendingPeers].map(([key, count]) => {
    const [peer, reason] = key.split("\u0000") as [string, string];
    return { peer, reason, count };
  });
  c.pending.clear();
  c.pendingPeers.clear();
  try {
    signals.add(company, c.minute, counts, peers);
  } catch (err) {
    // Counters are worth less than the socket: a busy database loses a minute's figures, not the worker.
    logger.error({ company, err }, `Writing ${company}'s signal counts failed: ${describeError(err)}`);
  }
}

/** The one summary line of a company's minute (nothing when the minute counted nothing). */
function logSummary(logger: Logger, company: string, c: CompanyCounts): void {
  if (c.totals.size === 0 && c.suppressed === 0) return;
  const parts: string[] = [];
  const payload: Record<string, Record<string, number>> = {};
  for (const [kind, reasons] of c.totals) {
    const total = [...reasons.values()].reduce((a, b) => a + b, 0);
    payload[kind] = Object.fromEntries(reasons);
    parts.push(`${total} ${kind} (${[...reasons].map(([r, n]) => `${r} ${n}`).join(", ")})`);
  }
  logger.warn(
    { company, signals: payload, suppressedLines: c.suppressed, minute: new Date(c.minute).toISOString() },
    `Signals of ${company} in the minute from ${new Date(c.minute).toISOString()}: ${parts.join("; ") || "none"}; ${c.suppressed} log lines suppressed`,
  );
}
