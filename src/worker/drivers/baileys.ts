/**
 * The Baileys driver: one real WhatsApp Web socket per connect() call (npm `baileys`, pinned),
 * with the company folder as its auth state (atomic writes) and keys behind
 * makeCacheableSignalKeyStore. It reports open / close (with the DisconnectReason status code) /
 * QR / pairing code and never reconnects by itself (Baileys does not either): the company session
 * decides.
 *
 * Close codes observed against a loopback server with baileys 7.0.0-rc14 (test/baileys-driver.test.ts):
 * - server closes the WebSocket after the client hello: 428 connectionClosed, "Connection Terminated";
 * - connection refused: 408, "WebSocket Error (connect ECONNREFUSED ...)";
 * - WebSocket open but the server never answers the hello: 408 "Timed Out" after connectTimeoutMs;
 * - TCP accepted but no WebSocket upgrade answer, AND an HTTP error answer to the upgrade (503...):
 *   408 "Opening handshake has timed out" after connectTimeoutMs. Baileys forwards ws's
 *   'unexpected-response' event, which makes ws wait instead of failing, so the HTTP status is lost.
 */
import {
  type ConnectionState,
  makeCacheableSignalKeyStore,
  makeWASocket,
  NO_MESSAGE_FOUND_ERROR_TEXT,
  proto,
  S_WHATSAPP_NET,
  type WABrowserDescription,
  type WASocket,
} from "baileys";
import { describeError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { wrapBaileysLogger } from "../../signals/baileys-logger.js";
import type { SignalRecorder } from "../../signals/signal-recorder.js";
import { openCompanyAuthState } from "../open-auth-state.js";
import type { ConnectOptions, Driver, DriverSocket } from "./driver.js";

/** Socket options the driver lets the caller set. */
export interface BaileysDriverOptions {
  /** WhatsApp Web socket URL; tests point it at a loopback server. */
  waWebSocketUrl?: string | URL;
  /** Baileys' connectTimeoutMs (WebSocket handshake, then the server's answer to the hello). */
  connectTimeoutMs?: number;
  /** Browser shown in the phone's linked devices; Baileys' default when absent. */
  browser?: WABrowserDescription;
  /** Baileys' own log level (default "warn": it is chatty), never more verbose than the worker's. */
  logLevel?: string;
  /**
   * How long close() waits for the server to answer the WebSocket close frame before dropping the
   * TCP connection (default 2,000 ms). ws alone waits 30 s on a dead network, and a worker that lost
   * its lease must let go of the company at once.
   */
  closeTimeoutMs?: number;
  /** Counts decrypt failures, session churn, retry receipts and stream errors (signal health). */
  signals?: SignalRecorder;
  /** The console guard's scope: libsignal's console lines are attributed to the company. */
  within?: <T>(company: string, fn: () => T) => T;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;

/** The driver of real companies: Baileys sockets over the atomic multi-file auth state, no logout on close. */
export function createBaileysDriver(options: BaileysDriverOptions = {}): Driver {
  return {
    name: "baileys",
    connect: (connect) => connectBaileys(options, connect),
  };
}

/** What one socket's listeners share: `done` once onClose fired or close() was called (no hook after that). */
interface SocketState {
  done: boolean;
  pairingRequested: boolean;
}

type CompanyAuth = Awaited<ReturnType<typeof openCompanyAuthState>>;

/** One socket: the auth state, the socket, its listeners, and the close that undoes them. */
async function connectBaileys(options: BaileysDriverOptions, connect: ConnectOptions): Promise<DriverSocket> {
  const { hooks, logger, company } = connect;
  const state: SocketState = { done: false, pairingRequested: false };
  // Declared before the socket: a failed database write ends it (fail closed, never run on lost writes).
  let failed: ((err: unknown) => void) | undefined;
  const auth = await openCompanyAuthState({
    company,
    dir: connect.dir,
    logger,
    onWrite: connect.onAuthWrite,
    onFailure: (err) => failed?.(err),
    ...(connect.authStore ? { store: connect.authStore } : {}),
  });
  const sock = openSocket(options, company, logger, auth);

  const onCredsUpdate = () => {
    void auth
      .saveCreds()
      .catch((err) => logger.error({ err }, `Saving creds.json failed: ${describeError(err)}`));
  };
  const onConnectionUpdate = connectionUpdateHandler(state, sock, auth, connect);
  const onUpsert = upsertHandler(company, hooks, options.signals);
  failed = (err) => {
    if (state.done) return;
    state.done = true;
    logger.error({ err }, `Auth database write failed: closing the socket (${describeError(err)})`);
    callHook(logger, "onAuthFailure", () => hooks.onAuthFailure?.(err));
  };
  sock.ev.on("creds.update", onCredsUpdate);
  sock.ev.on("connection.update", onConnectionUpdate);
  sock.ev.on("messages.upsert", onUpsert);
  const traffic = trafficListeners(sock, hooks);

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        // Ours, not the server's: onClose is NOT called (the caller knows it closed the socket;
        // Baileys' own close event for end(undefined) has no status code). Never sock.logout():
        // that would unlink the device from the phone.
        state.done = true;
        await endWithin(sock, options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS, logger);
        sock.ev.off("connection.update", onConnectionUpdate);
        sock.ev.off("creds.update", onCredsUpdate);
        sock.ev.off("messages.upsert", onUpsert);
        traffic.off();
        await auth.close();
      })();
      return closing;
    },
    ping: (timeoutMs) => (state.done ? Promise.resolve(null) : pingOnce(sock, timeoutMs)),
  };
}

/** makeWASocket over the company's auth state, inside the console guard's scope when there is one. */
function openSocket(
  options: BaileysDriverOptions,
  company: string,
  logger: Logger,
  auth: CompanyAuth,
): WASocket {
  const plainLogger = childLogger(logger, company, options.logLevel ?? "warn");
  const { signals, within } = options;
  const baileysLogger = signals ? wrapBaileysLogger(plainLogger, company, signals) : plainLogger;
  const open = () =>
    makeWASocket({
      auth: {
        creds: auth.state.creds,
        keys: makeCacheableSignalKeyStore(auth.state.keys, baileysLogger),
      },
      logger: baileysLogger,
      printQRInTerminal: false,
      markOnlineOnConnect: false,
      syncFullHistory: false,
      ...(options.waWebSocketUrl !== undefined ? { waWebSocketUrl: options.waWebSocketUrl } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.browser !== undefined ? { browser: options.browser } : {}),
    });
  // Inside the guard's scope, the socket's callbacks (and libsignal's console lines) are the company's.
  return within ? within(company, open) : open();
}

/**
 * Calls one driver hook: a throwing hook must not break Baileys' own event handling (the close
 * event comes from inside its end()).
 */
function callHook(logger: Logger, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    logger.error({ err }, `Driver hook ${what} failed: ${describeError(err)}`);
  }
}

/** connection.update → onQr (and the pairing code request), onTraffic (timelock), onOpen, onClose. */
function connectionUpdateHandler(
  state: SocketState,
  sock: WASocket,
  auth: CompanyAuth,
  connect: ConnectOptions,
): (update: Partial<ConnectionState>) => void {
  const { hooks, logger } = connect;
  const call = (what: string, fn: () => void) => callHook(logger, what, fn);
  return (update) => {
    if (state.done) return;
    const { connection, qr, lastDisconnect } = update;
    if (qr) {
      call("onQr", () => hooks.onQr(qr));
      if (connect.pairingPhone && !auth.state.creds.registered && !state.pairingRequested) {
        // Once per socket: each request makes a new code and the phone only accepts the last one.
        state.pairingRequested = true;
        requestPairingCode(state, sock, connect.pairingPhone, connect);
      }
    }
    if (update.reachoutTimeLock && hooks.onTraffic) {
      const report = update.reachoutTimeLock;
      call("onTraffic", () => hooks.onTraffic?.({ kind: "timelock", report }));
    }
    if (connection === "open") call("onOpen", () => hooks.onOpen());
    if (connection === "close") {
      state.done = true;
      // Baileys closes with a @hapi/boom error; read its fields without depending on it.
      const error = lastDisconnect?.error as
        | { message?: unknown; output?: { statusCode?: unknown } }
        | undefined;
      const code = typeof error?.output?.statusCode === "number" ? error.output.statusCode : undefined;
      const message = typeof error?.message === "string" ? error.message : "connection closed";
      call("onClose", () => hooks.onClose(code, message));
    }
  };
}

/** Asks for a pairing code and hands it to onPairingCode, unless the socket ended meanwhile. */
function requestPairingCode(
  state: SocketState,
  sock: WASocket,
  phone: string,
  connect: ConnectOptions,
): void {
  const { hooks, logger } = connect;
  sock
    .requestPairingCode(phone)
    .then((code) => {
      if (!state.done) callHook(logger, "onPairingCode", () => hooks.onPairingCode(code));
    })
    .catch((err) => {
      // A close() while the request is in flight fails it: not worth an error line.
      if (!state.done) logger.error({ err }, `Pairing code request failed: ${describeError(err)}`);
    });
}

/**
 * messages.upsert → inbound traffic, and the decrypt failures Baileys does not log: a message with
 * nothing to decrypt becomes a stub with no log line, only the event shows it.
 */
function upsertHandler(
  company: string,
  hooks: ConnectOptions["hooks"],
  signals: SignalRecorder | undefined,
): (upsert: { messages: proto.IWebMessageInfo[]; type: string }) => void {
  return ({ messages, type }) => {
    for (const m of messages) {
      // Delivered by the server: live ("notify") or the backlog after a reconnect ("append", not
      // our own send). Either proves the socket hears.
      if (hooks.onTraffic && (type === "notify" || !m.key?.fromMe)) hooks.onTraffic({ kind: "inbound" });
      if (m.messageStubType !== proto.WebMessageInfo.StubType.CIPHERTEXT) continue;
      if (m.messageStubParameters?.[0] !== NO_MESSAGE_FOUND_ERROR_TEXT) continue;
      const peer = m.key?.participant ?? m.key?.remoteJid ?? undefined;
      signals?.record(company, {
        kind: "decrypt-failure",
        reason: "Message absent from node",
        ...(peer ? { peer } : {}),
      });
    }
  };
}

/**
 * What the socket hears besides messages, for liveness (what each proves: docs/architecture.md):
 * every decoded frame (ws 'frame', pongs included), receipts (CB:receipt), the server's ack of our
 * sends (CB:ack,class:message: an `error` attribute is a nack, 463 / 479 ...), message capping.
 */
function trafficListeners(sock: WASocket, hooks: ConnectOptions["hooks"]): { off(): void } {
  const report = hooks.onTraffic;
  if (!report) return { off() {} };
  const safe = (fn: () => void) => {
    try {
      fn();
    } catch {
      // A liveness counter must never break Baileys' frame handling; the recorder logs its own failures.
    }
  };
  const onFrame = () => safe(() => report({ kind: "frame" }));
  const onReceipt = () => safe(() => report({ kind: "receipt" }));
  const onAck = (node: { attrs?: Record<string, string> }) =>
    safe(() => {
      const error = node.attrs?.error;
      const code = error === undefined ? null : Number(error);
      report({ kind: "send", code: code === null || Number.isFinite(code) ? code : -1 });
    });
  const onCapping = (info: Record<string, unknown>) => safe(() => report({ kind: "capping", report: info }));
  const ws = sock.ws as unknown as NodeJS.EventEmitter;
  ws.on("frame", onFrame);
  ws.on("CB:receipt", onReceipt);
  ws.on("CB:ack,class:message", onAck);
  sock.ev.on("message-capping.update", onCapping);
  return {
    off() {
      ws.off("frame", onFrame);
      ws.off("CB:receipt", onReceipt);
      ws.off("CB:ack,class:message", onAck);
      sock.ev.off("message-capping.update", onCapping);
    },
  };
}

/**
 * The cheapest question WhatsApp must answer: the iq ping (xmlns w:p) Baileys itself sends every
 * keepAliveIntervalMs. Round trip in ms, or null without an answer within `timeoutMs` (rc14's
 * query resolves undefined or rejects on a timeout or a closed socket).
 */
async function pingOnce(sock: WASocket, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  try {
    const answer = await sock.query(
      {
        tag: "iq",
        attrs: { to: S_WHATSAPP_NET, type: "get", xmlns: "w:p" },
        content: [{ tag: "ping", attrs: {} }],
      },
      timeoutMs,
    );
    return answer ? Math.round(performance.now() - started) : null;
  } catch {
    return null;
  }
}

/** Baileys' logger: a child of the worker's (with the company), at `wanted` or quieter. */
function childLogger(logger: Logger, company: string, wanted: string): Logger {
  const values = logger.levels.values;
  const level = (values[wanted] ?? 40) >= (values[logger.level] ?? 30) ? wanted : logger.level;
  // The worker's logger usually carries the company already: a second binding would repeat the key.
  const bindings =
    "company" in logger.bindings() ? { component: "baileys" } : { component: "baileys", company };
  return logger.child(bindings, { level });
}

/**
 * sock.end(undefined): closes the WebSocket without logging out. It waits for the server's close
 * frame (ws gives up only after 30 s); after `timeoutMs` the TCP connection is dropped instead.
 */
async function endWithin(sock: WASocket, timeoutMs: number, logger: Logger): Promise<void> {
  const ended = sock.end(undefined).catch((err) => {
    logger.warn({ err }, `Ending the socket failed: ${describeError(err)}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  try {
    if (await Promise.race([ended.then(() => false), timedOut])) {
      // Baileys' WebSocketClient keeps the ws instance in a protected field; terminate() destroys
      // the TCP socket, which emits the 'close' its end() is waiting for.
      const ws = (sock.ws as unknown as { socket?: { terminate?: () => void } | null }).socket;
      logger.debug({ timeoutMs }, "WebSocket close not answered in time: terminating the connection");
      ws?.terminate?.();
      await ended;
    }
  } finally {
    clearTimeout(timer);
  }
}
