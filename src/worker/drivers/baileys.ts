/**
 * The Baileys driver: one real WhatsApp Web socket per connect() call (npm `baileys`, pinned),
 * with the company folder as its auth state (atomic writes) and keys behind
 * makeCacheableSignalKeyStore. It reports open / close (with the DisconnectReason status code) /
 * QR / pairing code and never reconnects by itself: the company session decides.
 */
import { makeCacheableSignalKeyStore, makeWASocket } from "baileys";
import { describeError } from "../../errors.js";
import { useAtomicMultiFileAuthState } from "../auth-state.js";
import type { ConnectOptions, Driver, DriverSocket } from "./driver.js";

/** Socket options the driver lets the caller set. */
export interface BaileysDriverOptions {
  /** WhatsApp Web socket URL; tests point it at a loopback server. */
  waWebSocketUrl?: string | URL;
  connectTimeoutMs?: number;
}

/** Creates the Baileys driver. */
export function createBaileysDriver(options: BaileysDriverOptions = {}): Driver {
  return {
    name: "baileys",
    async connect(connect: ConnectOptions): Promise<DriverSocket> {
      const { hooks, logger } = connect;
      const auth = await useAtomicMultiFileAuthState(connect.dir, logger);
      // Baileys is chatty at info: warn and above unless BAILEYS_LOG_LEVEL says otherwise, and
      // never more verbose than the worker's own logger.
      const wanted = process.env.BAILEYS_LOG_LEVEL ?? "warn";
      const level =
        (logger.levels.values[wanted] ?? 40) >= (logger.levels.values[logger.level] ?? 30)
          ? wanted
          : logger.level;
      const baileysLogger = logger.child({ component: "baileys" }, { level });
      const sock = makeWASocket({
        auth: { creds: auth.state.creds, keys: makeCacheableSignalKeyStore(auth.state.keys, baileysLogger) },
        logger: baileysLogger,
        printQRInTerminal: false,
        markOnlineOnConnect: false,
        syncFullHistory: false,
        ...(options.waWebSocketUrl ? { waWebSocketUrl: options.waWebSocketUrl } : {}),
        ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      });
      let done = false;
      let pairingRequested = false;
      sock.ev.on("creds.update", () => {
        void auth
          .saveCreds()
          .catch((err) => logger.error({ err }, `Saving creds.json failed: ${describeError(err)}`));
      });
      sock.ev.on("connection.update", (update) => {
        if (done) return;
        if (update.qr) {
          if (connect.pairingPhone && !auth.state.creds.registered && !pairingRequested) {
            pairingRequested = true;
            sock
              .requestPairingCode(connect.pairingPhone)
              .then((code) => !done && hooks.onPairingCode(code))
              .catch((err) => logger.error({ err }, `Pairing code request failed: ${describeError(err)}`));
          } else if (!connect.pairingPhone) {
            hooks.onQr(update.qr);
          }
        }
        if (update.connection === "open") hooks.onOpen();
        if (update.connection === "close") {
          done = true;
          const error = update.lastDisconnect?.error as
            | (Error & { output?: { statusCode?: number }; data?: unknown })
            | undefined;
          hooks.onClose(error?.output?.statusCode, error?.message ?? "connection closed");
        }
      });
      let closing: Promise<void> | undefined;
      return {
        close() {
          closing ??= (async () => {
            // Ours, not the server's: no onClose, and never a logout (that would unlink the device).
            done = true;
            await sock.end(undefined);
            sock.ev.removeAllListeners("connection.update");
            await auth.flush();
          })();
          return closing;
        },
      };
    },
  };
}
