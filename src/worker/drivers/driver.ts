/**
 * The driver contract: what the worker needs from a WhatsApp connection, whether it is a real
 * Baileys socket or the simulated one. A driver opens ONE socket per `connect` call and never
 * reconnects by itself (Baileys does not either): the company session decides what happens after
 * a close.
 */
import type { TrafficEvent } from "../../liveness/liveness-recorder.js";
import type { Logger } from "../../logger.js";
import type { AuthStoreContext } from "../open-auth-state.js";

/** Callbacks a driver calls while a socket lives. */
export interface DriverHooks {
  /** The connection is open (logged in). */
  onOpen(): void;
  /** The socket closed; `code` is Baileys' DisconnectReason status code when there is one. */
  onClose(code: number | undefined, message: string): void;
  /** A write to the auth database failed: the socket is being closed and the company must stop. */
  onAuthFailure?(err: unknown): void;
  /** A new pairing QR string (it rotates while pairing). */
  onQr(qr: string): void;
  /** A pairing code to type on the phone (pairing by phone number). */
  onPairingCode(code: string): void;
  /** Liveness traffic: an incoming message, a receipt, any frame, a send's ack, a restriction. */
  onTraffic?(event: TrafficEvent): void;
}

/** Everything a driver needs to open one socket for one company. */
export interface ConnectOptions {
  company: string;
  /** The company's Baileys auth folder. */
  dir: string;
  logger: Logger;
  hooks: DriverHooks;
  /** Pair by phone number code instead of QR (digits only, with country code). */
  pairingPhone?: string;
  /** Handed to the auth state as its onWrite: sees each creds.json / app-state key write (snapshots). */
  onAuthWrite?: (file: string, data: Buffer) => void | Promise<void>;
  /** Where database stores live (the company's warden-auth.json picks the store). */
  authStore?: AuthStoreContext;
}

/** One live socket. */
export interface DriverSocket {
  /** Closes the socket WITHOUT logging out and flushes pending creds/key writes. Idempotent. */
  close(): Promise<void>;
  /**
   * Asks WhatsApp the cheapest question it must answer (an iq ping, xmlns w:p): the round trip in
   * ms, or null when no answer came within `timeoutMs` (or the socket is not open).
   */
  ping?(timeoutMs: number): Promise<number | null>;
}

/** Opens WhatsApp sockets for companies: Baileys for real ones, simulated for tests and demos. */
export interface Driver {
  readonly name: "baileys" | "simulated";
  connect(options: ConnectOptions): Promise<DriverSocket>;
}
