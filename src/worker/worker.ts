/**
 * A warden-worker instance: owns the companies whose id hashes to its instance number, holds a
 * lease per company it connects (one socket per company, ever), heartbeats and reconciles with the
 * folders on disk. Control requests are carried out by `control-requests.ts`, a folder is made
 * ready before each socket by `prepare-folder.ts`. Everything it learns goes to SQLite.
 */
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { releaseDeadActionHold } from "../actions/company-hold.js";
import type { Clock } from "../clock.js";
import { isCompanyId } from "../config/company-id.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";
import { describeError } from "../errors.js";
import { LivenessRecorder } from "../liveness/liveness-recorder.js";
import type { Logger } from "../logger.js";
import type { SignalRecorder } from "../signals/signal-recorder.js";
import type { Store } from "../store/store.js";
import { CompanySession } from "./company-session.js";
import { type ControlHost, handleControlRequests } from "./control-requests.js";
import {
  createSnapshotRecorder,
  createSnapshotSealer,
  type SnapshotSealer,
} from "./creds-snapshots/creds-snapshot.js";
import {
  type BackoffSettings,
  type ConnectionStateName,
  ownerInstance,
  TERMINAL_STATES,
} from "./disconnect-policy.js";
import type { Driver } from "./drivers/driver.js";
import { createLivenessCheck, type LivenessCheck } from "./liveness-check.js";
import type { AuthStoreContext } from "./open-auth-state.js";
import { prepareFolder } from "./prepare-folder.js";

/** What a worker is built from. */
export interface WorkerOptions {
  config: WardenConfig;
  store: Store;
  logger: Logger;
  clock: Clock;
  /** This instance (NODE_APP_INSTANCE) and how many there are. */
  instance: number;
  instances: number;
  /** Unique id of this process (host/instance/pid). */
  holder: string;
  pid: number;
  pmId: number | null;
  /** The driver for a company's settings. */
  driverFor(company: string, settings: CompanySettings): Driver;
  backoff?: BackoffSettings;
  /** WARDEN_BACKUP_KEY: creds snapshots are encrypted with it when set. */
  backupKey?: string;
  /** The drivers' signal recorder: flushed with each heartbeat, closed with the worker. */
  signals?: SignalRecorder;
  /** Liveness counters of the sockets (default: one on the store); flushed with each heartbeat. */
  liveness?: LivenessRecorder;
  /** Where database auth stores live and their key (companies whose warden-auth.json names one). */
  authStore?: AuthStoreContext;
}

/**
 * Owns one socket session per company it holds the lease of (its share of the fleet by hash): the
 * heartbeat, lease renewal and takeover, the control requests for its companies, creds restores.
 */
export class Worker {
  private readonly options: WorkerOptions;
  private readonly sessions = new Map<string, CompanySession>();
  private readonly log: Logger;
  private readonly sealer: SnapshotSealer;
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = 0;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private readonly control: ControlHost;
  private readonly liveness: LivenessRecorder;
  private readonly livenessCheck: LivenessCheck;

  constructor(options: WorkerOptions) {
    this.options = options;
    this.log = options.logger.child({ component: "worker", instance: options.instance });
    this.liveness =
      options.liveness ??
      new LivenessRecorder({ liveness: options.store.liveness, clock: options.clock, logger: this.log });
    this.livenessCheck = createLivenessCheck(this.liveness, options.clock);
    this.sealer = createSnapshotSealer(options.backupKey);
    this.control = {
      store: options.store,
      clock: options.clock,
      config: options.config,
      holder: options.holder,
      log: this.log,
      sessions: this.sessions,
      isClosed: () => this.closed,
      owns: (company) => this.owns(company),
      ownedFolders: () => this.ownedFolders(),
      connect: (company, message, pairingPhone, restore) =>
        this.connect(company, message, pairingPhone, restore),
    };
  }

  /** Companies this worker holds a session for. */
  get companies(): string[] {
    return [...this.sessions.keys()].sort();
  }

  /** The session of a company (tests, status). */
  session(company: string): CompanySession | undefined {
    return this.sessions.get(company);
  }

  /** True when this instance owns `company`. */
  owns(company: string): boolean {
    return ownerInstance(company, this.options.instances) === this.options.instance;
  }

  /** Registers, connects the owned companies, then ticks (control requests, heartbeat). */
  async start(): Promise<void> {
    const { store, clock, holder, instance, pid, pmId } = this.options;
    store.workers.register({ holder, instance, pid, pmId }, clock.now());
    await this.heartbeat();
    this.schedule();
  }

  /** Closes every socket (no logout), flushes creds, releases leases. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    const { store, clock, holder } = this.options;
    await Promise.all(
      [...this.sessions.values()].map(async (session) => {
        // A replaced / QR-required company has no socket; its state must survive the restart.
        if (!session.terminal) {
          await session
            .stop("worker stopping", "offline")
            .catch((err) => this.log.error({ err }, "close failed"));
        }
        store.leases.release(session.company, holder, clock.now(), "worker stopped");
      }),
    );
    this.sessions.clear();
    this.options.signals?.close();
    await this.livenessCheck.settled();
    this.liveness.close();
    store.workers.setStatus(holder, "stopped", clock.now());
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err) => this.log.error({ err }, `worker tick failed: ${describeError(err)}`))
        .finally(() => {
          this.ticking = undefined;
          this.schedule();
        });
    }, this.options.config.workers.controlPollEvery);
  }

  private async tick(): Promise<void> {
    await handleControlRequests(this.control);
    if (this.options.clock.now() - this.lastBeat >= this.options.config.workers.heartbeatEvery)
      await this.heartbeat();
  }

  /** Heartbeat, lease renewal, and reconciliation with the folders on disk. */
  async heartbeat(): Promise<void> {
    await this.beat();
    await this.reconcile();
  }

  /** The heartbeat row, the liveness check and the leases renewed (no reconcile). */
  private async beat(): Promise<void> {
    const { store, clock, holder, config } = this.options;
    const now = clock.now();
    this.lastBeat = now;
    this.options.signals?.flush();
    this.livenessCheck.run(this.sessions, config);
    this.liveness.flush();
    if (!store.workers.heartbeat(holder, now)) {
      // Declared dead by the supervisor (we were too slow): register again; leases decide the rest.
      store.workers.register(
        { holder, instance: this.options.instance, pid: this.options.pid, pmId: this.options.pmId },
        now,
      );
    }
    // One statement for all leases: per-company UPDATEs took the write lock once per company.
    const lost = store.leases.renewAll([...this.sessions.keys()], holder, now, config.workers.leaseTtl);
    for (const company of lost) {
      const session = this.sessions.get(company);
      if (!session) continue;
      this.log.error({ company }, "Lease lost: closing the socket at once (one socket per company)");
      this.sessions.delete(company);
      await session.stop("lease lost", "offline");
    }
  }

  private async ownedFolders(): Promise<string[]> {
    const entries = await readdir(this.options.config.sessionsDir, { withFileTypes: true }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return [];
        throw err;
      },
    );
    return entries
      .filter((e) => e.isDirectory() && isCompanyId(e.name) && this.owns(e.name))
      .map((e) => e.name);
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const owned = new Set(await this.ownedFolders());
    const { store, clock, holder } = this.options;
    for (const [company, session] of this.sessions) {
      if (!owned.has(company)) {
        this.sessions.delete(company);
        await session.stop("company folder removed", "offline");
        store.leases.release(company, holder, clock.now(), "folder removed");
      }
    }
    for (const company of owned) {
      if (this.closed) return;
      if (this.sessions.has(company)) continue;
      const desired = store.control.desired(company);
      if (desired.desired === "stop") continue;
      // Replaced / QR required / forbidden / outdated stay so across worker restarts: reconnecting
      // on every restart would fight the other client (440) or hit 401 again. `warden start` resumes.
      const last = store.connections.get(company)?.state;
      if (last && TERMINAL_STATES.has(last as ConnectionStateName)) continue;
      await this.connect(company, "start", desired.pairingPhone);
      // Connecting 10,000 companies takes a minute: beat meanwhile, or the supervisor declares this
      // worker dead (workers.deadAfter) and its leases lapse while it starts.
      if (clock.now() - this.lastBeat >= this.options.config.workers.heartbeatEvery) await this.beat();
    }
  }

  /**
   * Takes the lease and starts a session; false when another worker holds the company. Before each
   * socket of the session opens (under the lease): a missing creds.json is restored from its
   * snapshots (unless `restore` is false: a pairing asked for a new identity) and the creds files
   * on disk are snapshotted; every later write of them is snapshotted by the auth state's hook.
   */
  private async connect(
    company: string,
    message: string,
    pairingPhone: string | null,
    restore = true,
  ): Promise<boolean> {
    const { store, clock, holder, pid, config } = this.options;
    releaseDeadActionHold(store, company, clock.now());
    if (!store.leases.acquire(company, holder, pid, clock.now(), config.workers.leaseTtl)) return false;
    const settings = companySettings(config, company);
    const dir = path.join(config.sessionsDir, company);
    // Only a pairing an operator asked for may make a new company's folder; a session never does.
    if (!restore) await mkdir(dir, { recursive: true, mode: 0o700 });
    const logger = this.options.logger.child({ company });
    const keep = settings.backups.credsSnapshots;
    const restoring = { enabled: restore };
    const recorder = createSnapshotRecorder({
      store,
      sealer: this.sealer,
      company,
      keep,
      now: () => clock.now(),
      logger,
    });
    const session = new CompanySession({
      company,
      dir,
      driver: this.options.driverFor(company, settings),
      logger,
      store,
      clock,
      holder,
      backoff: this.options.backoff,
      pairingPhone: pairingPhone ?? settings.pairing.phoneNumber,
      onAuthWrite: recorder.record,
      ...(this.options.authStore ? { authStore: this.options.authStore } : {}),
      // Before every socket, reconnects included: the auth state reads creds.json again each time,
      // and a creds.json lost during an outage would otherwise become a new, unpaired identity.
      beforeOpen: () =>
        prepareFolder({ store, clock, sealer: this.sealer, holder }, company, dir, logger, keep, restoring),
      onGone: () => {
        if (this.sessions.get(company) === session) this.sessions.delete(company);
        store.leases.release(company, holder, clock.now(), "folder removed");
      },
      liveness: this.liveness,
    });
    this.sessions.set(company, session);
    await session.start(message);
    return true;
  }
}
