/**
 * One company's connection lifecycle inside a worker: at most one driver socket at a time, every
 * state change recorded as a transition row, reconnects decided by the disconnect policy.
 * Callbacks from an older socket (after a stop or a reconnect) are ignored by generation number.
 */
import type { Clock } from "../clock.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import type { LivenessRecorder } from "../liveness/liveness-recorder.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import {
  type BackoffSettings,
  type ConnectionStateName,
  DEFAULT_BACKOFF,
  decideAfterClose,
  TERMINAL_STATES,
} from "./disconnect-policy.js";
import type { Driver, DriverSocket } from "./drivers/driver.js";
import { type AuthStoreContext, isAuthStoreFailure } from "./open-auth-state.js";

/** What a company session is built from. */
export interface CompanySessionOptions {
  company: string;
  dir: string;
  driver: Driver;
  logger: Logger;
  store: Store;
  clock: Clock;
  /** Lease holder id of this worker (recorded with each transition). */
  holder: string;
  backoff?: BackoffSettings;
  pairingPhone?: string | null;
  /** Passed to every socket's auth state: the worker's creds snapshots. */
  onAuthWrite?: (file: string, data: Buffer) => void | Promise<void>;
  /** Where database auth stores live (a company's warden-auth.json picks its store). */
  authStore?: AuthStoreContext;
  /**
   * Runs before each socket opens (folder check, creds restore and snapshot); it must not throw.
   * "missing": the company folder is gone, the session stops instead of opening.
   */
  beforeOpen?: () => Promise<"ready" | "missing" | undefined>;
  /** The session stopped because its company folder is gone (the worker lets go of the lease). */
  onGone?: () => void;
  /** Liveness: told when a socket opens and closes, and of each traffic event the driver reports. */
  liveness?: LivenessRecorder;
}

/** A company's connection inside a worker. */
export class CompanySession {
  readonly company: string;
  private readonly options: CompanySessionOptions;
  private current: ConnectionStateName | undefined;
  private socket: DriverSocket | undefined;
  private generation = 0;
  private attempt = 0;
  private openedAt: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pairingPhone: string | null;

  constructor(options: CompanySessionOptions) {
    this.options = options;
    this.company = options.company;
    this.pairingPhone = options.pairingPhone ?? null;
  }

  /** Current state (undefined before start). */
  get state(): ConnectionStateName | undefined {
    return this.current;
  }

  /** True while a socket is being held or a reconnect is scheduled. */
  get active(): boolean {
    return this.socket !== undefined || this.retryTimer !== undefined || this.connecting;
  }

  private connecting = false;

  /** True when the session waits for a human (replaced, QR required, forbidden, outdated client). */
  get terminal(): boolean {
    return this.current !== undefined && TERMINAL_STATES.has(this.current);
  }

  /** Opens a socket unless one is held or scheduled. */
  async start(message = "start", pairingPhone?: string | null): Promise<void> {
    if (pairingPhone !== undefined) this.pairingPhone = pairingPhone;
    if (this.active) return;
    this.attempt = 0;
    await this.open("connecting", message);
  }

  /** Closes the socket (no logout) and opens a new one at once. */
  async reconnect(message = "reconnect requested"): Promise<void> {
    await this.closeSocket();
    this.attempt = 0;
    await this.open("reconnecting", message);
  }

  /** Closes the socket without logging out and records `state` (stopped, offline...). */
  async stop(message: string, state: ConnectionStateName = "stopped"): Promise<void> {
    try {
      await this.closeSocket();
    } finally {
      // Even when flushing the socket's last writes failed, it is closed: never leave "open" behind.
      this.record(state, null, message);
    }
  }

  /** When the current socket opened (null: no open socket). */
  get openSince(): number | null {
    return this.openedAt ?? null;
  }

  /** Asks WhatsApp a ping on the open socket: round trip in ms, null when unanswered or not open. */
  async ping(timeoutMs: number): Promise<number | null> {
    const socket = this.socket;
    if (!socket?.ping || this.current !== "open") return null;
    return socket.ping(timeoutMs);
  }

  private async closeSocket(): Promise<void> {
    this.generation++;
    if (this.openedAt !== undefined) this.options.liveness?.socketClosed(this.company);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.openedAt = undefined;
    if (socket) await socket.close();
  }

  private async open(state: "connecting" | "reconnecting", message: string): Promise<void> {
    const gen = ++this.generation;
    this.retryTimer = undefined;
    if (this.current !== state) this.record(state, null, message);
    const log = this.options.logger;
    this.connecting = true;
    let socket: DriverSocket;
    try {
      if (this.options.beforeOpen) {
        const ready = await this.options.beforeOpen();
        // Stopped meanwhile: open nothing (the stop recorded its own state).
        if (gen !== this.generation) {
          this.connecting = false;
          return;
        }
        if (ready === "missing") {
          this.gone();
          return;
        }
      }
      socket = await this.options.driver.connect({
        company: this.company,
        dir: this.options.dir,
        logger: log,
        ...(this.pairingPhone ? { pairingPhone: this.pairingPhone } : {}),
        ...(this.options.onAuthWrite ? { onAuthWrite: this.options.onAuthWrite } : {}),
        ...(this.options.authStore ? { authStore: this.options.authStore } : {}),
        hooks: {
          onAuthFailure: (err) => gen === this.generation && this.onAuthFailure(err),
          onOpen: () => gen === this.generation && this.onOpen(),
          onClose: (code, why) => gen === this.generation && this.onClose(code, why),
          onQr: (qr) => gen === this.generation && this.onQr(qr),
          onPairingCode: (code) => gen === this.generation && this.onPairingCode(code),
          onTraffic: (event) => {
            if (gen === this.generation) this.options.liveness?.event(this.company, event);
          },
        },
      });
    } catch (err) {
      this.connecting = false;
      if (gen !== this.generation) return;
      // Removed between the check and the open: the driver refused to create it.
      if (err instanceof WardenError && err.code === ErrorCodes.COMPANY_FOLDER_MISSING) this.gone();
      // Fail closed: a store that cannot be read stops the company; a retry could only pair anew.
      else if (isAuthStoreFailure(err)) this.stopOnAuthFailure(err);
      else this.onClose(undefined, `connect failed: ${describeError(err)}`);
      return;
    }
    this.connecting = false;
    if (gen !== this.generation) {
      // Stopped or replaced while connecting: never keep two sockets.
      await socket.close();
      return;
    }
    this.socket = socket;
  }

  /** The company folder is gone: no socket, no retry; the worker releases the lease. */
  private gone(): void {
    this.connecting = false;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.record("offline", null, "company folder removed: the session stops (it never creates the folder)");
    this.options.onGone?.();
  }

  private onOpen(): void {
    this.openedAt = this.options.clock.now();
    this.options.liveness?.opened(this.company);
    this.record("open", null, "connected");
  }

  private onAuthFailure(err: unknown): void {
    const socket = this.socket;
    this.socket = undefined;
    this.generation++;
    if (socket)
      void socket.close().catch((e) => this.options.logger.warn({ err: e }, "closing the socket failed"));
    this.stopOnAuthFailure(err);
  }

  private stopOnAuthFailure(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    this.options.logger.error(
      { err },
      `${this.company}: auth store failed, company stopped: ${describeError(err)}`,
    );
    this.record(
      "auth_store_failed",
      null,
      `${typeof code === "string" ? `${code}: ` : ""}${describeError(err)}`,
    );
  }

  private onQr(qr: string): void {
    this.options.store.connections.putQr(this.company, qr, this.options.clock.now());
    if (this.current !== "pairing") this.record("pairing", null, "waiting for a QR scan");
  }

  private onPairingCode(code: string): void {
    this.options.store.connections.putPairingCode(this.company, code, this.options.clock.now());
    if (this.current !== "pairing") this.record("pairing", null, "waiting for the pairing code");
  }

  private onClose(code: number | undefined, message: string): void {
    const socket = this.socket;
    this.socket = undefined;
    this.generation++;
    // The driver's socket is gone; closing our handle flushes pending auth writes.
    if (socket)
      void socket.close().catch((err) => this.options.logger.warn({ err }, "closing a dead socket failed"));
    const now = this.options.clock.now();
    const openFor = this.openedAt === undefined ? 0 : now - this.openedAt;
    if (this.openedAt !== undefined) this.options.liveness?.socketClosed(this.company);
    this.openedAt = undefined;
    const decision = decideAfterClose(code, this.attempt, openFor, this.options.backoff ?? DEFAULT_BACKOFF);
    if (decision.action === "stop") {
      this.options.logger.warn(
        { code, state: decision.state },
        `Connection closed (${code}): ${decision.state}; not reconnecting`,
      );
      this.record(decision.state, code ?? null, message);
      return;
    }
    this.attempt = decision.attempt;
    this.record(
      "reconnecting",
      code ?? null,
      `${message}; retry ${decision.attempt} in ${decision.delayMs} ms`,
    );
    const gen = this.generation;
    this.retryTimer = setTimeout(() => {
      if (gen !== this.generation) return;
      void this.open("reconnecting", `retry ${decision.attempt}`);
    }, decision.delayMs);
  }

  private record(to: ConnectionStateName, code: number | null, message: string): void {
    const from = this.current;
    this.current = to;
    if (from === to && to !== "reconnecting") return;
    // Each further attempt of a reconnect loop is detail: info would drown the log during an outage.
    this.options.logger[from === to ? "debug" : "info"](
      { from, to, code },
      `${this.company}: ${from ?? "-"} -> ${to}${code ? ` (${code})` : ""}: ${message}`,
    );
    this.options.store.connections.transition(
      { company: this.company, to, code, message, holder: this.options.holder },
      this.options.clock.now(),
    );
  }
}
