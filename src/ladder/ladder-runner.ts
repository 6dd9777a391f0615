/**
 * The ladder's shell: every check it asks decide() what to do for each company, stores the new
 * memory and the steps, and carries the actions out: alerts into the outbox, reconnects as control
 * requests, cleanups and QR-required through the executors of src/actions/ (stop through the
 * worker, back up, act, then let it reconnect, or keep it stopped for QR required). The outage
 * bookkeeping is check-outage.ts, the key-state evidence store-evidence.ts. Destructive work runs
 * in the background, at most two at a time, one per company; a company with work in flight is not
 * decided on again until it finishes.
 */

import PQueue from "p-queue";
import type { ActionContext } from "../actions/action-context.js";
import { runCleanup } from "../actions/cleanup/cleanup.js";
import type { CompanyHold } from "../actions/company-hold.js";
import { holdFor } from "../actions/hold-for-change.js";
import { runQrRequired } from "../actions/pairing/qr-required.js";
import type { Clock } from "../clock.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { CompanyCounts } from "../store/companies.js";
import type { Store } from "../store/store.js";
import { checkOutage } from "./check-outage.js";
import { type ChunkRows, lookbackOf, readChunkRows } from "./chunk-rows.js";
import { type Decision, decide, type LadderAction, type LadderInput } from "./decide.js";
import { episodeStartOf, flapsOf } from "./flapping.js";
import { checkFleetIncident } from "./fleet-incident.js";
import type { KeyStateEvidence } from "./key-state-evidence.js";
import { EMPTY_MEMORY, type LadderMemory, type LadderNotify, toMemory } from "./ladder-types.js";
import { runLivenessSteps } from "./liveness-steps.js";
import { type KeyStateEvidenceSource, storeEvidence } from "./store-evidence.js";

/** What the runner is built from. */
export interface LadderRunnerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The config in force (it may be reloaded between two checks). */
  config: () => WardenConfig;
  /** What the ladder's cleanups, resets and QR-required steps act through (backups, key, limits). */
  actions: ActionContext;
  notify: LadderNotify;
  /** Key-state evidence per company; default storeEvidence(store, config). */
  evidence?: KeyStateEvidenceSource;
}

/** A ladder pass: what it decides with, taken once at its start. */
interface CheckPass {
  config: WardenConfig;
  now: number;
  offline: boolean;
  holds: ReadonlyMap<string, string>;
}

const ACTOR = "ladder";
const TOPIC_TITLES: Record<string, string> = {
  down: "disconnected",
  human_needed: "human needed",
  qr_required: "QR required",
  cannot_help: "cleanup cannot help now",
  flapping: "flapping",
  stable: "stable again",
};

/**
 * Companies listed and decided on from one read of their rows (chunk-rows.ts), in one synchronous
 * turn: a sliced pass yields between chunks.
 */
const PASS_CHUNK = 100;

/** The memory of a company without a ladder_state row, as the JSON text setMemory would store. */
const FRESH_MEMORY_TEXT = JSON.stringify(toMemory(undefined));
const FRESH_KEYS = Object.keys(EMPTY_MEMORY).length;

/**
 * True when `memory` has exactly the fresh memory's fields, each at its empty value: it would be
 * stored as FRESH_MEMORY_TEXT (in some key order). The common case of a pass, decided without
 * JSON.stringify (at 10,000 companies that was a tenth of a pass).
 */
function readsAsFresh(memory: LadderMemory): boolean {
  let keys = 0;
  for (const key in memory) {
    keys++;
    const value = memory[key as keyof LadderMemory];
    if (value === EMPTY_MEMORY[key as keyof LadderMemory]) continue;
    if (key !== "actions" || !Array.isArray(value) || value.length > 0) return false;
  }
  return keys === FRESH_KEYS;
}

/** What a connected company's decision gets as key-state evidence: it reads none. */
const NO_EVIDENCE: KeyStateEvidence = { badSessionCloses: 0, decryptStorm: null };

/** How far after a pass's `now` a transition is taken as written during the pass (not a clock set back). */
const NEWER_THAN_VERDICTS_MS = 60_000;

/** Runs the ladder over the fleet. */
export class LadderRunner {
  private readonly options: LadderRunnerOptions;
  private readonly log: Logger;
  private readonly work = new PQueue({ concurrency: 2 });
  private readonly inFlight = new Set<string>();
  /** Companies the ladder itself stopped and let go, until when their reconnect is not judged. */
  private readonly settling = new Map<string, number>();
  private probeOk: boolean | null = null;
  private probeDetail: string | null = null;
  private readonly shutdown = new AbortController();
  private closed = false;
  private readonly evidence: KeyStateEvidenceSource;
  /** The fleet hold last noted per company (one step per hold, not one per check). */
  private readonly heldNoted = new Map<string, string>();

  constructor(options: LadderRunnerOptions) {
    this.options = options;
    this.evidence = options.evidence ?? storeEvidence(options.store, options.config);
    this.log = options.logger.child({ component: "ladder" });
  }

  /** The last connectivity probe result (null: no probe); `detail` names the target and the error. */
  setProbeResult(ok: boolean | null, detail: string | null = null): void {
    this.probeOk = ok;
    this.probeDetail = detail;
  }

  /** Companies with destructive work in flight. */
  get busy(): ReadonlySet<string> {
    return this.inFlight;
  }

  /** Waits until every background action has finished. */
  async idle(): Promise<void> {
    await this.work.onIdle();
  }

  /** One check of the whole fleet: outage verdict, then one decision per company. */
  check(): void {
    const pass = this.beginPass();
    if (!pass) return;
    for (let after: string | undefined = ""; after !== undefined; )
      after = this.checkChunk(pass, after, PASS_CHUNK, Number.POSITIVE_INFINITY);
  }

  /**
   * The same check with an event-loop turn whenever a slice has run `sliceMs`: at 10,000 companies
   * one pass held the loop for half a second (alerts, bot replies and file events waited). Every
   * company present is decided on exactly once per pass, with the pass's `now`, in id order: the
   * companies and their rows are read `chunk` companies at a time in the turn of their decisions
   * (nothing is listed for the whole pass: at 10,000 companies the list, kept over the pass's
   * turns, was garbage the collector had to promote); a slice that runs out within a chunk ends it
   * there (the rest is read again after the turn).
   */
  async checkInSlices(sliceMs = 20, chunk = PASS_CHUNK): Promise<void> {
    const pass = this.beginPass();
    if (!pass) return;
    // The verdicts read the whole fleet (two statements each over every company): the decisions
    // start in the next turn, not in the same one.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closed) return;
    let sliceStart = performance.now();
    for (let after: string | undefined = ""; after !== undefined; ) {
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.closed) return;
        sliceStart = performance.now();
      }
      after = this.checkChunk(pass, after, chunk, sliceStart + sliceMs);
    }
  }

  /** What one pass decides with: the fleet's verdicts, taken once at its start. */
  private beginPass(): CheckPass | undefined {
    if (this.closed) return undefined;
    const { store, clock } = this.options;
    const config = this.options.config();
    const now = clock.now();
    const verdict = checkOutage({
      store,
      settings: config.fleet,
      probeOk: this.probeOk,
      probeDetail: this.probeDetail,
      notify: this.options.notify,
      now,
    });
    const holds = checkFleetIncident({
      store,
      settings: config.fleet.correlate,
      notify: this.options.notify,
      now,
    });
    return { config, now, offline: verdict.offline, holds };
  }

  /**
   * The decisions on up to `size` companies present after `after` (in id order), listed and with
   * their rows read now, in this turn (chunk-rows.ts), until `deadline` (performance.now()) passes.
   * Returns the id of the last company decided on, or undefined when the pass is done.
   */
  private checkChunk(pass: CheckPass, after: string, size: number, deadline: number): string | undefined {
    const { store } = this.options;
    const chunk = store.companies.listPresentCountsPage(after, size);
    const last = chunk.at(-1);
    if (last === undefined) return undefined;
    const rows = readChunkRows(store, after, last.id, pass.now);
    for (const company of chunk) {
      this.checkCompany(company, pass, rows);
      if (company !== last && performance.now() >= deadline) return company.id;
    }
    return chunk.length < size ? undefined : last.id;
  }

  /** One company's decision within a pass, from its chunk's rows. */
  private checkCompany(company: CompanyCounts, pass: CheckPass, rows: ChunkRows): void {
    const { store } = this.options;
    const { config, now, holds } = pass;
    if (this.inFlight.has(company.id)) return;
    const conn = rows.connections.get(company.id);
    // No worker has ever reported this company: nothing to judge yet.
    if (!conn) return;
    // A transition after the pass's verdicts (a worker wrote it meanwhile: the decisions read their
    // rows after the verdicts, in later turns) is decided by the next pass, whose outage and fleet
    // verdicts will have seen it: one logout of a forming incident must not be told on its own.
    // Bounded to a minute ahead, so a clock set back never leaves a company undecided for long.
    if (conn.since > now && conn.since - now < NEWER_THAN_VERDICTS_MS) return;
    // Part of a WhatsApp-side incident (or maybe about to be): one fleet alert, no company step.
    if (this.heldByFleet(company.id, holds.get(company.id), now)) return;
    const settings = companySettings(config, company.id);
    const desired = rows.desired.get(company.id) ?? "run";
    runLivenessSteps(
      { store, notify: this.options.notify, now },
      company.id,
      {
        open: conn.state === "open",
        active: settings.ladder.enabled && desired === "run",
        settleFor: settings.liveness.settleFor,
        held: null,
      },
      { liveness: rows.liveness.get(company.id), memory: rows.deafMemory.get(company.id) },
    );
    // Our own stop is not an outage of the company: give the worker settleFor to reconnect.
    const settleUntil = this.settling.get(company.id);
    if (settleUntil !== undefined) {
      if (conn.state !== "open" && now < settleUntil) return;
      this.settling.delete(company.id);
    }
    const stored = rows.memory.get(company.id);
    // No row: the fresh memory, shared and frozen (decide() copies what it changes).
    const memory = stored?.memory ?? (EMPTY_MEMORY as LadderMemory);
    const decision = decide(
      {
        company: company.id,
        state: conn.state,
        code: conn.code,
        desired,
        counted: company.counted,
        files: {
          total: company.total,
          // Rows saved before migration 4 (basis "counted") know nothing stale: assume nothing.
          stale: company.stale,
          heldByMinAge: company.heldByMinAge,
          heldUntil: company.heldUntil,
        },
        settings,
        fleetOffline: pass.offline,
        memory,
        ...this.history(
          company.id,
          conn,
          memory.episode,
          settings.ladder.stableAfter,
          now,
          rows.events.get(company.id),
        ),
      },
      now,
    );
    this.apply(company.id, decision, now, stored?.text);
  }

  /**
   * What the connection history says: the episode's start across flaps (a connection shorter than
   * ladder.stableAfter does not end it), its close codes and last error text, the flaps of the
   * last hour, the evidence and the probe. `known`: the events since the lookback when the chunk
   * read them.
   */
  private history(
    company: string,
    conn: { state: string; since: number; downSince: number | null },
    episode: number | null,
    stableAfter: number,
    now: number,
    known: { to: string; code: number | null; at: number }[] | undefined,
  ): Pick<
    LadderInput,
    "downSince" | "openSince" | "flaps" | "codesSeen" | "lastClose" | "evidence" | "probe"
  > {
    const { connections } = this.options.store;
    const open = conn.state === "open";
    const events = known ?? connections.eventsSince(company, lookbackOf(conn, episode, now));
    const downSince =
      open || conn.downSince === null ? conn.downSince : episodeStartOf(events, conn.downSince, stableAfter);
    const start = open ? (episode ?? null) : downSince;
    return {
      downSince,
      openSince: open ? conn.since : null,
      flaps: flapsOf(events, now, stableAfter),
      codesSeen: start === null ? [] : connections.closeCodesSince(company, start),
      lastClose: start === null ? null : connections.lastCloseSince(company, start),
      // Only a down company's decision reads the evidence (decide-down.ts): a connected one skips
      // its three signal queries (at 10,000 companies a third of a ladder pass).
      evidence: open ? NO_EVIDENCE : this.evidence(company, downSince, now),
      probe: { ok: this.probeOk, detail: this.probeDetail },
    };
  }

  /** True (with one step per hold) when a fleet incident holds the company. */
  private heldByFleet(company: string, why: string | undefined, now: number): boolean {
    if (why === undefined) {
      this.heldNoted.delete(company);
      return false;
    }
    if (this.heldNoted.get(company) !== why) {
      this.heldNoted.set(company, why);
      this.options.store.ladder.addStep(company, "hold:fleet", why, "decided", now);
    }
    return true;
  }

  /** Stops taking new work and waits for the work in flight. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.shutdown.abort();
    this.work.clear();
    await this.work.onIdle();
  }

  /**
   * `stored`: the company's memory as read for this decision, as its stored JSON text (setMemory
   * wrote it with JSON.stringify; nothing writes it in between).
   */
  private apply(company: string, decision: Decision, now: number, stored: string | undefined): void {
    const { store } = this.options;
    if (decision.notes.length === 0 && decision.actions.length === 0) {
      // No row reads as the fresh memory (toMemory): a company the ladder has nothing to remember
      // about gets no row, instead of one write per company the first time it is seen connected.
      const unchanged =
        stored === undefined
          ? readsAsFresh(decision.memory) || JSON.stringify(decision.memory) === FRESH_MEMORY_TEXT
          : JSON.stringify(decision.memory) === stored;
      if (!unchanged) store.ladder.setMemory(company, decision.memory, now);
      return;
    }
    // Memory, steps and the quick actions in one transaction: a crash cannot act twice or forget.
    const work: { action: Extract<LadderAction, { kind: "cleanup" | "qr_required" }>; stepId: number }[] = [];
    store.transaction(() => {
      store.ladder.setMemory(company, decision.memory, now);
      for (const note of decision.notes)
        store.ladder.addStep(company, note.step, note.reason, "decided", now);
      for (const { action, step } of decision.actions) {
        const stepId = store.ladder.addStep(company, step.step, step.reason, "decided", now);
        if (action.kind === "alert") {
          this.options.notify(
            company,
            `${company}: ${TOPIC_TITLES[action.topic] ?? action.topic}`,
            action.text,
            { kind: `ladder-${action.topic}`, company, level: action.level },
          );
          store.ladder.setStepResult(stepId, "alert queued");
        } else if (action.kind === "reconnect") {
          const id = store.control.request(company, "reconnect", { attempt: action.attempt }, ACTOR, now);
          store.ladder.setStepResult(stepId, `reconnect requested (#${id})`);
        } else {
          work.push({ action, stepId });
        }
      }
    });
    for (const { action, stepId } of work) this.startWork(company, action, stepId);
  }

  private startWork(
    company: string,
    action: Extract<LadderAction, { kind: "cleanup" | "qr_required" }>,
    stepId: number | undefined,
  ): void {
    this.inFlight.add(company);
    void this.work
      .add(async () => {
        let result: string;
        try {
          result =
            action.kind === "cleanup"
              ? await this.cleanup(company, action)
              : await this.qrRequired(company, action.reason);
        } catch (err) {
          result = `failed: ${describeError(err)}`;
          this.log.error(
            { company, action: action.kind, err },
            `Ladder ${action.kind} failed: ${describeError(err)}`,
          );
          this.options.notify(company, `${company}: ladder ${action.kind} failed`, describeError(err), {
            kind: "ladder-failed",
            company,
          });
        }
        if (stepId !== undefined) this.options.store.ladder.setStepResult(stepId, result);
        this.log.info({ company, action: action.kind, result }, `Ladder ${action.kind}: ${result}`);
      })
      .finally(() => this.inFlight.delete(company));
  }

  /** The ladder's own stop: through the worker, acknowledged, then the company's hold. */
  private stopAndHold(company: string): Promise<CompanyHold> {
    return holdFor(this.options.actions, {
      company,
      actor: ACTOR,
      stopFirst: true,
      signal: this.shutdown.signal,
    });
  }

  private async cleanup(
    company: string,
    action: Extract<LadderAction, { kind: "cleanup" }>,
  ): Promise<string> {
    const { store, clock } = this.options;
    const config = this.options.config();
    const settings = companySettings(config, company);
    if (action.why !== "down" && action.mode === "smart") {
      // The count the decision used may be a scan old: plan again before stopping a connected
      // company, and leave it alone when the plan no longer deletes ladder.minCleanupFiles (invariant 13).
      const dry = await runCleanup(this.options.actions, {
        company,
        settings,
        actor: ACTOR,
        mode: "smart",
        dryRun: true,
      });
      if (dry.plan.delete.length < Math.max(1, settings.ladder.minCleanupFiles))
        return `smart (${action.why}): not stopped, the plan deletes ${dry.plan.delete.length} files (< ladder.minCleanupFiles ${settings.ladder.minCleanupFiles})`;
    }
    // It reconnects when we let go.
    const hold = await this.stopAndHold(company);
    try {
      const result = await runCleanup(this.options.actions, {
        company,
        settings: companySettings(config, company),
        actor: ACTOR,
        mode: action.mode,
        force: action.force,
        hold,
      });
      // Later alerts of this episode say what this cleanup deleted (ladder-texts.ts).
      const mem = toMemory(store.ladder.memory(company));
      const lastCleanup = {
        at: clock.now(),
        mode: action.mode,
        deleted: result.deleted,
        backup: result.backup,
      };
      store.ladder.setMemory(company, { ...mem, lastCleanup }, clock.now());
      return `${action.mode} (${action.why}): deleted ${result.deleted} files, kept ${result.plan.keepCount}${result.backup ? `; backup ${result.backup}` : ""}`;
    } finally {
      hold.release(`ladder ${action.mode} done`, { resume: true });
      // A cleanup of a connected company stopped it: its reconnect must not count as a new episode.
      if (action.why !== "down") {
        this.settling.set(company, clock.now() + companySettings(config, company).ladder.settleFor);
      }
    }
  }

  private qrRequired(company: string, reason: string): Promise<string> {
    return runQrRequired(this.options.actions, {
      company,
      actor: ACTOR,
      reason,
      signal: this.shutdown.signal,
    });
  }
}
