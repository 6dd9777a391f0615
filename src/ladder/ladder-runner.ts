/**
 * The ladder's shell: every check it asks decide() what to do for each company, stores the new
 * memory and the steps, and carries the actions out: alerts into the outbox, reconnects as control
 * requests, cleanups and QR-required through the executors (stop through the worker, back up,
 * act, let it reconnect). Destructive work runs in the background, at most two at a time, one per
 * company; a company with work in flight is not decided on again until it finishes.
 */
import PQueue from "p-queue";
import { createBackup, verifyBackup } from "../actions/backup.js";
import { runCleanup } from "../actions/cleanup.js";
import { type CompanyHold, holdCompany } from "../actions/company-hold.js";
import type { Clock } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { decryptStormFor } from "../signals/signal-summary.js";
import type { Store } from "../store/store.js";
import { type Decision, decide, EMPTY_MEMORY, type LadderAction, type LadderMemory } from "./decide.js";
import type { KeyStateEvidence } from "./key-state-evidence.js";
import { detectOutage } from "./outage.js";

/** How the runner tells operators something (the supervisor queues it in the outbox). */
export type LadderNotify = (
  company: string | null,
  title: string,
  detail: string,
  payload: Record<string, unknown>,
) => void;

/**
 * Where the ladder learns whether a company's key state is broken: 500 (badSession) closes in the
 * down episode (issue 8) and a decrypt-failure storm in the workers' signal counters (issue 14).
 */
export type KeyStateEvidenceSource = (
  company: string,
  episodeStart: number | null,
  now: number,
) => KeyStateEvidence;

/**
 * The evidence in the store: 500 closes since the episode began, and a decrypt-failure storm when
 * the company's `signals.alertAt` window holds that many failures (the same rule as the alert).
 */
export function storeEvidence(store: Store, config: () => WardenConfig): KeyStateEvidenceSource {
  return (company, episodeStart, now) => {
    const decryptStorm = decryptStormFor(store.signals, company, now, companySettings(config(), company));
    if (episodeStart === null) return { badSessionCloses: 0, decryptStorm };
    const codes = store.connections.closeCodesSince(company, episodeStart);
    return { badSessionCloses: codes.find((c) => c.code === 500)?.n ?? 0, decryptStorm };
  };
}

/** What the runner is built from. */
export interface LadderRunnerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The config in force (it may be reloaded between two checks). */
  config: () => WardenConfig;
  /** WARDEN_HOME/backups. */
  backupsRoot: string;
  backupKey?: string;
  notify: LadderNotify;
  /** How long to wait for a worker to acknowledge the ladder's stop. */
  stopTimeoutMs?: number;
  /** Key-state evidence per company; default storeEvidence(store, config). */
  evidence?: KeyStateEvidenceSource;
}

const ACTOR = "ladder";
const TOPIC_TITLES: Record<string, string> = {
  down: "disconnected",
  human_needed: "human needed",
  qr_required: "QR required",
  reset_failed: "reset did not bring it back",
  cannot_help: "cleanup cannot help now",
};

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
    if (this.closed) return;
    const { store, clock } = this.options;
    const config = this.options.config();
    const now = clock.now();
    const companies = store.companies.listPresent();
    const wanted = companies
      .filter((c) => store.control.desired(c.id).desired === "run")
      .map((c) => {
        const conn = store.connections.get(c.id);
        return {
          company: c.id,
          state: conn?.state ?? null,
          downSince: conn?.downSince ?? null,
          credsCorrupt: c.credsState === "corrupt",
        };
      })
      .filter((c) => c.state !== null);
    const outage = store.ladder.currentOutage();
    const verdict = detectOutage(
      { companies: wanted, probeOk: this.probeOk, wasOffline: outage !== undefined, settings: config.fleet },
      now,
    );
    if (verdict.offline && !outage) {
      // The probe's target and error in the record and the alert: "probe web.whatsapp.com:443: ...".
      const reason = `${verdict.reason ?? "fleet offline"}${this.probeOk === false && this.probeDetail ? ` (${this.probeDetail})` : ""}`;
      store.ladder.startOutage(reason, verdict.down.length, now);
      this.options.notify(
        null,
        "Network outage: the ladder holds",
        `${reason}. ${verdict.down.length} companies down. Reconnects continue; no cleanup or reset until the network is back.`,
        { kind: "outage", level: "critical", down: verdict.down.length },
      );
    } else if (!verdict.offline && outage) {
      store.ladder.endOutage(now);
      this.options.notify(
        null,
        "Network back: outage resolved",
        `The outage that began ${formatDuration(now - outage.startedAt)} ago (${outage.reason}) is over; the ladder acts again.`,
        { kind: "outage-resolved", level: "ok" },
      );
    }

    for (const company of companies) {
      if (this.inFlight.has(company.id)) continue;
      const conn = store.connections.get(company.id);
      // No worker has ever reported this company: nothing to judge yet.
      if (!conn) continue;
      // Our own stop is not an outage of the company: give the worker settleFor to reconnect.
      const settleUntil = this.settling.get(company.id);
      if (settleUntil !== undefined) {
        if (conn.state !== "open" && now < settleUntil) continue;
        this.settling.delete(company.id);
      }
      const settings = companySettings(config, company.id);
      const memory = toMemory(store.ladder.memory(company.id));
      const episodeStart = conn.state === "open" ? null : conn.downSince;
      const decision = decide(
        {
          company: company.id,
          state: conn.state,
          code: conn.code,
          downSince: conn.downSince,
          desired: store.control.desired(company.id).desired,
          counted: company.counted,
          files: {
            total: company.total,
            // Rows saved before migration 4 (basis "counted") know nothing stale: assume nothing.
            stale: company.stale,
            heldByMinAge: company.heldByMinAge,
            heldUntil: company.heldUntil,
          },
          evidence: this.evidence(company.id, episodeStart, now),
          codesSeen: episodeStart === null ? [] : store.connections.closeCodesSince(company.id, episodeStart),
          settings,
          fleetOffline: verdict.offline,
          memory,
        },
        now,
      );
      this.apply(company.id, decision, now);
    }
  }

  /** Stops taking new work and waits for the work in flight. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.shutdown.abort();
    this.work.clear();
    await this.work.onIdle();
  }

  private apply(company: string, decision: Decision, now: number): void {
    const { store } = this.options;
    if (decision.notes.length === 0 && decision.actions.length === 0) {
      if (JSON.stringify(decision.memory) !== JSON.stringify(store.ladder.memory(company)))
        store.ladder.setMemory(company, decision.memory, now);
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
    return holdCompany({
      store: this.options.store,
      clock: this.options.clock,
      company,
      actor: ACTOR,
      stopFirst: true,
      stopTimeoutMs: this.options.stopTimeoutMs,
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
      // company, and leave it alone when the plan no longer deletes ladder.minCleanupFiles (issue 8).
      const dry = await runCleanup({
        store,
        clock,
        sessionsDir: config.sessionsDir,
        backupsRoot: this.options.backupsRoot,
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
      const result = await runCleanup({
        store,
        clock,
        sessionsDir: config.sessionsDir,
        backupsRoot: this.options.backupsRoot,
        company,
        settings: companySettings(config, company),
        actor: ACTOR,
        mode: action.mode,
        force: action.force,
        hold,
        backupKey: this.options.backupKey,
      });
      return `${action.mode} (${action.why}): deleted ${result.deleted} files, kept ${result.plan.keepCount}${result.backup ? `; backup ${result.backup}` : ""}`;
    } finally {
      hold.release(`ladder ${action.mode} done`, { resume: true });
      // A cleanup of a connected company stopped it: its reconnect must not count as a new episode.
      if (action.why !== "down") {
        this.settling.set(company, clock.now() + companySettings(config, company).ladder.settleFor);
      }
    }
  }

  private async qrRequired(company: string, reason: string): Promise<string> {
    const { store, clock } = this.options;
    const config = this.options.config();
    const hold = await this.stopAndHold(company);
    try {
      const backup = await createBackup({
        company,
        dir: `${config.sessionsDir}/${company}`,
        backupsRoot: this.options.backupsRoot,
        reason: "qr-required",
        now: clock.now(),
        key: this.options.backupKey,
        keep: companySettings(config, company).backups.keep,
      });
      const verified = await verifyBackup(backup.path, { key: this.options.backupKey });
      const code = store.connections.get(company)?.code ?? null;
      store.transaction(() => {
        store.connections.transition(
          { company, to: "qr_required", code, message: `ladder: ${reason}`, holder: ACTOR },
          clock.now(),
        );
        store.audit.add({
          at: clock.now(),
          actor: ACTOR,
          company,
          action: "qr-required",
          ok: verified.ok,
          result: `QR required (${reason}); nothing deleted; backup ${backup.path}${verified.ok ? " verified" : " FAILED verification"}`,
          detail: { backup: backup.path, problems: verified.problems },
        });
      });
      return `qr_required: backup ${backup.path}${verified.ok ? " verified" : " failed verification"}; nothing deleted`;
    } finally {
      // Stays stopped: reconnecting a logged-out session only repeats the 401.
      hold.release("ladder qr_required", { resume: false });
    }
  }
}

/** The stored memory, completed with defaults (older rows, hand edits); a fresh one when unusable. */
function toMemory(raw: unknown): LadderMemory {
  if (!raw || typeof raw !== "object") return { ...EMPTY_MEMORY, actions: [] };
  const merged = { ...EMPTY_MEMORY, ...(raw as Partial<LadderMemory>) };
  return {
    ...merged,
    actions: Array.isArray(merged.actions) ? merged.actions.filter((t) => typeof t === "number") : [],
  };
}
