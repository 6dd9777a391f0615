/**
 * A warden-worker instance: owns the companies whose id hashes to its instance number, holds a
 * lease per company it connects (one socket per company, ever), heartbeats, and answers control
 * requests. Everything it learns goes to SQLite.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { releaseDeadActionHold } from "../actions/company-hold.js";
import {
  createSnapshotRecorder,
  createSnapshotSealer,
  type SnapshotSealer,
  snapshotFolder,
} from "../actions/creds-snapshot.js";
import { restoreMissingCreds } from "../actions/restore-missing-creds.js";
import type { Clock } from "../clock.js";
import { isCompanyId } from "../config/company-id.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { SignalRecorder } from "../signals/signal-recorder.js";
import type { ControlRequest } from "../store/control.js";
import type { Store } from "../store/store.js";
import { CompanySession } from "./company-session.js";
import {
  type BackoffSettings,
  type ConnectionStateName,
  ownerInstance,
  TERMINAL_STATES,
} from "./disconnect-policy.js";
import type { Driver } from "./drivers/driver.js";
import { readCredsRegistered } from "./read-creds.js";

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

  constructor(options: WorkerOptions) {
    this.options = options;
    this.log = options.logger.child({ component: "worker", instance: options.instance });
    this.sealer = createSnapshotSealer(options.backupKey);
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
    await this.handleControlRequests();
    if (this.options.clock.now() - this.lastBeat >= this.options.config.workers.heartbeatEvery)
      await this.heartbeat();
  }

  /** Heartbeat, lease renewal, and reconciliation with the folders on disk. */
  async heartbeat(): Promise<void> {
    const { store, clock, holder, config } = this.options;
    const now = clock.now();
    this.lastBeat = now;
    this.options.signals?.flush();
    if (!store.workers.heartbeat(holder, now)) {
      // Declared dead by the supervisor (we were too slow): register again; leases decide the rest.
      store.workers.register(
        { holder, instance: this.options.instance, pid: this.options.pid, pmId: this.options.pmId },
        now,
      );
    }
    for (const session of [...this.sessions.values()]) {
      if (!store.leases.renew(session.company, holder, now, config.workers.leaseTtl)) {
        this.log.error(
          { company: session.company },
          "Lease lost: closing the socket at once (one socket per company)",
        );
        this.sessions.delete(session.company);
        await session.stop("lease lost", "offline");
      }
    }
    await this.reconcile();
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
      // Before every socket, reconnects included: the auth state reads creds.json again each time,
      // and a creds.json lost during an outage would otherwise become a new, unpaired identity.
      beforeOpen: () => this.prepareFolder(company, dir, logger, keep, restoring),
    });
    this.sessions.set(company, session);
    await session.start(message);
    return true;
  }

  /**
   * Restores a missing creds.json from its newest snapshot that opens, then snapshots the creds
   * files on disk (so a folder has versions before its first change). Never throws: a company whose
   * creds cannot be restored pairs again (QR), as it did before snapshots existed; its session does
   * not try again (each QR timeout reconnects: one failed audit row, not one per QR round).
   */
  private async prepareFolder(
    company: string,
    dir: string,
    logger: Logger,
    keep: number,
    restoring: { enabled: boolean },
  ): Promise<void> {
    const { store, clock } = this.options;
    if (restoring.enabled && (await this.restoreCreds(company, dir, logger)) === "failed") {
      restoring.enabled = false;
    }
    try {
      await snapshotFolder(store, this.sealer, company, dir, keep, clock.now());
    } catch (err) {
      logger.error({ err }, `Snapshot of ${company}'s creds files failed: ${describeError(err)}`);
    }
  }

  private async restoreCreds(company: string, dir: string, logger: Logger): Promise<string> {
    const { store, clock, holder } = this.options;
    try {
      const outcome = await restoreMissingCreds({
        store,
        sealer: this.sealer,
        company,
        dir,
        actor: `worker:${holder}`,
        now: clock.now(),
      });
      if (outcome.status === "restored") {
        logger.warn(
          { files: outcome.files, snapshotAt: outcome.snapshotAt, problems: outcome.problems },
          `${company} had no creds.json: restored ${outcome.files.join(", ")} from the snapshot of ${new Date(outcome.snapshotAt).toISOString()}`,
        );
      } else if (outcome.status === "failed") {
        logger.error(
          { problems: outcome.problems },
          `${company} has no creds.json and its snapshots could not be restored (a QR scan will be needed): ${outcome.problems[0]}`,
        );
      }
      return outcome.status;
    } catch (err) {
      // Unexpected (the folder unreadable, the database gone): tried again before the next socket.
      logger.error({ err }, `Restoring ${company}'s creds.json failed: ${describeError(err)}`);
      return "error";
    }
  }

  private async handleControlRequests(): Promise<void> {
    const { store, clock, holder } = this.options;
    for (const request of store.control.pending()) {
      if (this.closed || !this.owns(request.company)) continue;
      if (!store.control.pick(request.id, holder, clock.now())) continue;
      let ok = true;
      let result: string;
      try {
        result = await this.execute(request);
      } catch (err) {
        ok = false;
        result = describeError(err);
      }
      this.log.info({ company: request.company, action: request.action, ok, requestId: request.id }, result);
      store.control.finish(request.id, ok, result, clock.now());
    }
  }

  private async execute(request: ControlRequest): Promise<string> {
    const { store, clock, holder, config } = this.options;
    const { company, action } = request;
    const owned = await this.ownedFolders();
    if (!owned.includes(company))
      throw new WardenError(
        ErrorCodes.COMPANY_UNKNOWN,
        `Unknown company ${JSON.stringify(company)}: no folder in ${config.sessionsDir}`,
        { company },
      );
    const session = this.sessions.get(company);
    const now = clock.now();
    switch (action) {
      case "stop": {
        store.control.setDesired(company, "stop", null, now);
        if (!session) return `${company} was not connected; it stays stopped`;
        this.sessions.delete(company);
        await session.stop(`stopped by ${request.requestedBy}`);
        store.leases.release(company, holder, clock.now(), "stopped");
        return `${company} stopped (no logout); it stays stopped until started`;
      }
      case "start": {
        store.control.setDesired(company, "run", store.control.desired(company).pairingPhone, now);
        if (session?.active) return `${company} is already ${session.state}`;
        if (session) {
          await session.start(`started by ${request.requestedBy}`);
          return `${company} starting`;
        }
        if (!(await this.connect(company, `started by ${request.requestedBy}`, null))) {
          throw leaseHeld(
            company,
            `${company} is held by another worker (lease); not starting a second socket`,
          );
        }
        return `${company} starting`;
      }
      case "reconnect": {
        store.control.setDesired(company, "run", store.control.desired(company).pairingPhone, now);
        if (!session) {
          if (!(await this.connect(company, `reconnect by ${request.requestedBy}`, null))) {
            throw leaseHeld(
              company,
              `${company} is held by another worker (lease); not starting a second socket`,
            );
          }
          return `${company} connecting`;
        }
        await session.reconnect(`reconnect by ${request.requestedBy}`);
        return `${company} reconnecting`;
      }
      case "pair": {
        const phone = typeof request.args.phone === "string" ? request.args.phone : null;
        if (await readCredsRegistered(path.join(config.sessionsDir, company))) {
          throw new WardenError(
            ErrorCodes.COMPANY_PAIRED,
            `${company} is already paired (creds.json is registered); a new pairing needs its creds.json moved aside into a backup first`,
          );
        }
        store.control.setDesired(company, "run", phone, now);
        if (session) {
          await session.stop(`pairing requested by ${request.requestedBy}`);
          this.sessions.delete(company);
          store.leases.release(company, holder, clock.now(), "re-pairing");
        }
        // No restore: a pairing asks for a new identity in a folder whose creds.json was moved aside.
        if (!(await this.connect(company, `pairing requested by ${request.requestedBy}`, phone, false))) {
          throw leaseHeld(company, `${company} is held by another worker (lease)`);
        }
        return phone
          ? `${company} pairing by code for ${phone} started; the code follows within seconds`
          : `${company} pairing started; the first QR follows within seconds`;
      }
    }
  }
}

/** A control request the worker cannot carry out because another holder has the company's lease. */
function leaseHeld(company: string, message: string): WardenError {
  return new WardenError(ErrorCodes.LEASE_HELD, message, { company });
}
