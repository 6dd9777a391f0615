/**
 * The worker's liveness memory: what each company's socket received (incoming messages, receipts,
 * any frame), its send results and WhatsApp's restrictions, counted in memory (one Map lookup per
 * event) and written to SQLite as per-minute buckets, the longest gap per hour (the learned rhythm)
 * and one state row per company. `judge` runs the pure detector (detect-deaf.ts) from these
 * numbers: O(1) per company, no query but a cached rhythm lookup once a minute.
 */
import type { Clock } from "../clock.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { LivenessCounts, LivenessQueries, LivenessRow, LivenessStateName } from "../store/liveness.js";
import {
  clockJump,
  type DeafSettings,
  type DeafVerdict,
  detectDeaf,
  type PingResult,
} from "./detect-deaf.js";
import {
  type CappingReport,
  currentRestriction,
  fromCapping,
  fromRejections,
  fromTimelock,
  RESTRICTING_CODES,
  type Restriction,
  type TimelockReport,
} from "./restriction.js";
import { hourStart, LEARN_FOR_MS, usualGap } from "./rhythm.js";

/** Something a socket saw that tells whether it is alive (drivers report these). */
export type TrafficEvent =
  | { kind: "inbound" }
  | { kind: "receipt" }
  | { kind: "frame" }
  /** the server's ack of one of our sends: code null = accepted, else the nack's error code */
  | { kind: "send"; code: number | null }
  | { kind: "timelock"; report: TimelockReport }
  | { kind: "capping"; report: CappingReport };

const MINUTE = 60_000;
/** A company's state row is rewritten at most this often unless its state changes. */
const WRITE_EVERY = MINUTE;

/** The traffic times a company's state row carries (the same fields as the row). */
type LastSeen = Pick<
  LivenessRow,
  "openedAt" | "lastInboundAt" | "lastReceiptAt" | "lastFrameAt" | "lastSendAt" | "lastSendCode"
>;

interface CompanyLiveness extends LastSeen {
  minute: number;
  counts: LivenessCounts;
  /** hour start → longest gap not yet written */
  gaps: Map<number, number>;
  /** the minute the gaps were last written in */
  gapsMinute: number;
  timelock: Restriction | null;
  capping: Restriction | null;
  rejections: { at: number; code: number }[];
  lastPing: PingResult | null;
  verdict: DeafVerdict | null;
  state: LivenessStateName;
  since: number;
  usual: { minute: number; value: number | null } | null;
  writtenAt: number;
  writtenKey: string;
}

/** What the recorder needs. */
export interface LivenessRecorderOptions {
  liveness: LivenessQueries;
  clock: Clock;
  logger: Logger;
  /** A monotonic clock in ms (default performance.now): wall-clock jumps are measured against it. */
  monotonic?: () => number;
}

function emptyCounts(): LivenessCounts {
  return { inbound: 0, receipts: 0, frames: 0, sendsOk: 0, sendsRejected: 0, rejectedCodes: {} };
}

/** Counts liveness traffic per company and judges deafness. */
export class LivenessRecorder {
  private readonly options: LivenessRecorderOptions;
  private readonly companies = new Map<string, CompanyLiveness>();
  private readonly monotonic: () => number;
  private lastWall: number;
  private lastMono: number;
  private closed = false;

  constructor(options: LivenessRecorderOptions) {
    this.options = options;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.lastWall = options.clock.now();
    this.lastMono = this.monotonic();
  }

  private entry(company: string): CompanyLiveness {
    let c = this.companies.get(company);
    if (c) return c;
    const now = this.options.clock.now();
    // The learned rhythm and the last message survive restarts: they are read back from the store.
    const row = this.safe(() => this.options.liveness.get(company), undefined);
    c = {
      openedAt: null,
      lastInboundAt: row?.lastInboundAt ?? null,
      lastReceiptAt: row?.lastReceiptAt ?? null,
      lastFrameAt: row?.lastFrameAt ?? null,
      lastSendAt: row?.lastSendAt ?? null,
      lastSendCode: row?.lastSendCode ?? null,
      minute: Math.floor(now / MINUTE) * MINUTE,
      counts: emptyCounts(),
      gaps: new Map(),
      gapsMinute: 0,
      timelock:
        row?.restrictedReason && (row.restrictedUntil === null || row.restrictedUntil > now)
          ? { source: "timelock", reason: row.restrictedReason, until: row.restrictedUntil }
          : null,
      capping: null,
      rejections: [],
      lastPing: null,
      verdict: null,
      state: "unknown",
      since: now,
      usual: null,
      writtenAt: 0,
      writtenKey: "",
    };
    this.companies.set(company, c);
    return c;
  }

  /** A socket of `company` opened: silence is counted from now (a gap across a restart is not silence). */
  opened(company: string): void {
    const c = this.entry(company);
    c.openedAt = this.options.clock.now();
    c.lastPing = null;
  }

  /** The socket of `company` closed (or is closing): nothing is judged until it opens again. */
  socketClosed(company: string): void {
    const c = this.companies.get(company);
    if (!c) return;
    this.writeBucket(company, c);
    c.openedAt = null;
    c.lastPing = null;
    this.persist(company, c, this.options.clock.now(), true);
  }

  /** Records one traffic event of `company`'s socket. */
  event(company: string, event: TrafficEvent): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    const c = this.entry(company);
    this.rollMinute(company, c, now);
    switch (event.kind) {
      case "inbound": {
        const from = Math.max(c.openedAt ?? now, c.lastInboundAt ?? Number.NEGATIVE_INFINITY);
        const hour = hourStart(now);
        c.gaps.set(hour, Math.max(c.gaps.get(hour) ?? 0, now - from));
        c.lastInboundAt = now;
        c.counts.inbound++;
        return;
      }
      case "receipt":
        c.lastReceiptAt = now;
        c.counts.receipts++;
        return;
      case "frame":
        c.lastFrameAt = now;
        c.counts.frames++;
        return;
      case "send":
        c.lastSendAt = now;
        c.lastSendCode = event.code;
        if (event.code === null) c.counts.sendsOk++;
        else {
          c.counts.sendsRejected++;
          const key = String(event.code);
          c.counts.rejectedCodes[key] = (c.counts.rejectedCodes[key] ?? 0) + 1;
          if (RESTRICTING_CODES.has(event.code)) {
            c.rejections.push({ at: now, code: event.code });
            if (c.rejections.length > 50) c.rejections.splice(0, c.rejections.length - 50);
          }
        }
        return;
      case "timelock":
        c.timelock = fromTimelock(event.report, now);
        return;
      case "capping":
        c.capping = fromCapping(event.report, now);
        return;
    }
  }

  /** The restriction of `company` in force now, or null. */
  restriction(company: string): Restriction | null {
    const c = this.companies.get(company);
    if (!c) return null;
    const now = this.options.clock.now();
    return currentRestriction(
      { timelock: c.timelock, capping: c.capping, rejections: fromRejections(c.rejections, now) },
      now,
    );
  }

  /** Records the answer (or silence) of a ping asked of `company`'s socket. */
  pinged(company: string, result: PingResult): void {
    const c = this.companies.get(company);
    if (c && c.openedAt !== null) c.lastPing = result;
  }

  /** Judges `company` now (pure detector over the counters); the verdict is kept for the state row. */
  judge(company: string, settings: DeafSettings): DeafVerdict {
    const now = this.options.clock.now();
    const c = this.entry(company);
    const minute = Math.floor(now / MINUTE);
    if (!c.usual || c.usual.minute !== minute) {
      c.usual = {
        minute,
        value: this.safe(() => usualGap(this.options.liveness, company, now), c.usual?.value ?? null),
      };
    }
    const verdict = detectDeaf(
      {
        openedAt: c.openedAt,
        lastInboundAt: c.lastInboundAt,
        hadInbound: c.lastInboundAt !== null && now - c.lastInboundAt < LEARN_FOR_MS,
        usualGapMs: c.usual.value,
        settings,
        lastPing: c.lastPing,
      },
      now,
    );
    c.verdict = verdict;
    const state: LivenessStateName = verdict.state;
    if (state !== c.state) {
      c.state = state;
      c.since = now;
    }
    return verdict;
  }

  /**
   * Writes what is due: finished minutes' buckets, once a minute the learned gaps (the silence
   * still running counts for this hour, except while deaf: deafness must not teach the rhythm),
   * state rows once a minute or on a change. A wall-clock jump restarts every open company's silence. Never throws.
   */
  flush(): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    const mono = this.monotonic();
    const jump = clockJump(this.lastWall, this.lastMono, now, mono);
    this.lastWall = now;
    this.lastMono = mono;
    if (jump !== 0) {
      this.options.logger.warn(
        { jumpMs: jump },
        `The wall clock jumped by ${jump} ms: liveness silence restarts now`,
      );
    }
    for (const [company, c] of this.companies) {
      if (jump !== 0 && c.openedAt !== null) {
        c.openedAt = now;
        c.lastPing = null;
        if (c.lastInboundAt !== null && c.lastInboundAt > now) c.lastInboundAt = now;
      }
      this.rollMinute(company, c, now);
      // The learned gaps are written once a minute (a heartbeat is every few seconds).
      const minute = Math.floor(now / MINUTE);
      if (minute !== c.gapsMinute) {
        c.gapsMinute = minute;
        if (c.openedAt !== null && c.state !== "deaf") {
          const from = Math.max(c.openedAt, c.lastInboundAt ?? Number.NEGATIVE_INFINITY);
          const hour = hourStart(now);
          c.gaps.set(hour, Math.max(c.gaps.get(hour) ?? 0, now - from));
        }
        this.writeGaps(company, c);
      }
      this.persist(company, c, now, false);
    }
  }

  /** Writes everything pending. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const [company, c] of this.companies) {
      this.writeBucket(company, c);
      this.writeGaps(company, c);
      this.persist(company, c, this.options.clock.now(), true);
    }
    this.closed = true;
  }

  private rollMinute(company: string, c: CompanyLiveness, now: number): void {
    const minute = Math.floor(now / MINUTE) * MINUTE;
    if (minute === c.minute) return;
    this.writeBucket(company, c);
    c.minute = minute;
  }

  private writeBucket(company: string, c: CompanyLiveness): void {
    const k = c.counts;
    if (k.inbound + k.receipts + k.frames + k.sendsOk + k.sendsRejected === 0) return;
    c.counts = emptyCounts();
    this.safe(() => this.options.liveness.add(company, c.minute, k), undefined);
  }

  private writeGaps(company: string, c: CompanyLiveness): void {
    if (c.gaps.size === 0) return;
    const gaps = [...c.gaps];
    c.gaps.clear();
    this.safe(() => {
      for (const [hour, gap] of gaps) this.options.liveness.recordGap(company, hour, gap);
    }, undefined);
  }

  private persist(company: string, c: CompanyLiveness, now: number, force: boolean): void {
    const restriction = currentRestriction(
      { timelock: c.timelock, capping: c.capping, rejections: fromRejections(c.rejections, now) },
      now,
    );
    const v = c.verdict;
    // The first message on a new socket is written at once: it is what ends a deaf episode.
    const heard = c.openedAt !== null && c.lastInboundAt !== null && c.lastInboundAt >= c.openedAt;
    const key = `${c.state}|${restriction?.reason ?? ""}|${c.openedAt ?? ""}|${v?.reason ?? ""}|${heard}`;
    if (!force && key === c.writtenKey && now - c.writtenAt < WRITE_EVERY) return;
    c.writtenKey = key;
    c.writtenAt = now;
    const row: LivenessRow = {
      company,
      openedAt: c.openedAt,
      lastInboundAt: c.lastInboundAt,
      lastReceiptAt: c.lastReceiptAt,
      lastFrameAt: c.lastFrameAt,
      lastSendAt: c.lastSendAt,
      lastSendCode: c.lastSendCode,
      state: c.openedAt === null ? "unknown" : c.state,
      since: c.since,
      reason: v?.reason ?? null,
      usualGapMs: c.usual?.value ?? null,
      silentForMs: v?.silentForMs ?? null,
      thresholdMs: v?.thresholdMs ?? null,
      restrictedReason: restriction?.reason ?? null,
      restrictedUntil: restriction?.until ?? null,
      queryAt: c.lastPing?.at ?? null,
      queryRttMs: c.lastPing?.rttMs ?? null,
      checkedAt: now,
    };
    this.safe(() => this.options.liveness.putState(row), undefined);
  }

  /** Liveness figures are worth less than the socket: a busy database loses a write, not the worker. */
  private safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      this.options.logger.error({ err }, `Liveness store write failed: ${describeError(err)}`);
      return fallback;
    }
  }
}
