/**
 * The simulated driver: the same Driver contract with no network. It writes key files with
 * Baileys' own functions (getNextPreKeys for pre-keys, the auth state's keys.set for sessions,
 * sender keys and lid mappings, so names and encodings are Baileys') and follows the company's
 * `simulation` scenario: connect after a delay, grow N pre-keys per minute, disconnect with a
 * given code after T, recover or keep failing, fail to decrypt D messages per minute (issue 14: the
 * failures go through the same wrapped Baileys logger, with Baileys' own log call, as a real socket's),
 * receive a message every `inboundEvery` until `deafAfter` (the socket stays open and keeps answering
 * pings: deaf, until a new socket), and get a reachout timelock `restrictAfter` after opening that
 * lasts `restrictFor` (once per company per process).
 * Used by `npm run demo` and the pm2 tests.
 */
import { randomBytes } from "node:crypto";
import { getNextPreKeys } from "baileys";
import type { CompanySettings } from "../../config/schema.js";
import { wrapBaileysLogger } from "../../signals/baileys-logger.js";
import type { SignalRecorder } from "../../signals/signal-recorder.js";
import { openCompanyAuthState } from "../open-auth-state.js";
import type { ConnectOptions, Driver, DriverSocket } from "./driver.js";

/** A company's scenario (the `simulation` config key). */
export type SimulationScenario = CompanySettings["simulation"];

/** State that outlives one socket: whether the company "broke" for good. */
interface Runtime {
  brokenCode?: number;
  /** the simulated reachout timelock happened (once per company per process) */
  restricted?: boolean;
}

/** Creates the simulated driver; `scenarioFor` reads the company's current scenario. */
export function createSimulatedDriver(
  scenarioFor: (company: string) => SimulationScenario,
  signals?: SignalRecorder,
): Driver {
  const runtimes = new Map<string, Runtime>();
  return {
    name: "simulated",
    async connect(options: ConnectOptions): Promise<DriverSocket> {
      const scenario = scenarioFor(options.company);
      let runtime = runtimes.get(options.company);
      if (!runtime) {
        runtime = {};
        runtimes.set(options.company, runtime);
      }
      return startSimulatedSocket(options, scenario, runtime, signals);
    },
  };
}

async function startSimulatedSocket(
  options: ConnectOptions,
  scenario: SimulationScenario,
  runtime: Runtime,
  signals?: SignalRecorder,
): Promise<DriverSocket> {
  const { hooks, company } = options;
  const {
    state,
    saveCreds,
    close: closeAuth,
  } = await openCompanyAuthState({
    company,
    dir: options.dir,
    logger: options.logger,
    onWrite: options.onAuthWrite,
    onFailure: (err) => options.hooks.onAuthFailure?.(err),
    ...(options.authStore ? { store: options.authStore } : {}),
  });
  const { creds } = state;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let writing = Promise.resolve();
  const later = (ms: number, fn: () => void | Promise<void>, repeat = false) => {
    const timer = (repeat ? setInterval : setTimeout)(() => {
      if (closed) return;
      if (!repeat) timers.delete(timer);
      writing = writing
        .then(fn)
        .catch((err) => options.logger.error({ err }, "simulated driver step failed"));
    }, ms);
    timers.add(timer);
  };
  const closeWith = (code: number, message: string) => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    hooks.onClose(code, message);
  };
  const addPreKeys = async (count: number) => {
    // As the socket's uploadPreKeys does: generate and store, then move the creds counters.
    const { update } = await getNextPreKeys(state, count);
    Object.assign(creds, update);
    await saveCreds();
  };
  const peer = (n: number) => `${5500000000000 + n}`;
  const addPeerKeys = async (n: number) => {
    // Sessions, sender keys and lid mappings as a chatting account accumulates them.
    await state.keys.set({
      session: { [`${peer(n)}.0`]: randomBytes(64) },
      "lid-mapping": { [peer(n)]: `${200000000000000 + n}` },
      ...(n % 5 === 0 ? { "sender-key": { [`1203630${n}@g.us--${peer(0)}--0`]: randomBytes(48) } } : {}),
    });
  };

  if (creds.nextPreKeyId <= 1 && scenario.initialPreKeys > 0) await addPreKeys(scenario.initialPreKeys);

  if (runtime.brokenCode !== undefined || !scenario.connect) {
    const code = runtime.brokenCode ?? scenario.disconnectCode;
    later(scenario.connectAfter, () => closeWith(code, "simulated: the session is still failing"));
  } else if (!creds.registered) {
    let round = 0;
    const showQr = () => hooks.onQr(`SIM-QR:${company}:${++round}:${randomBytes(8).toString("hex")}`);
    later(0, showQr);
    later(20_000, showQr, true);
    if (options.pairingPhone)
      later(0, () => hooks.onPairingCode(randomBytes(4).toString("hex").toUpperCase()));
    if (scenario.pairAfter !== null) {
      later(scenario.pairAfter, async () => {
        creds.registered = true;
        creds.me = {
          id: `${peer(Number.parseInt(randomBytes(2).toString("hex"), 16))}:1@s.whatsapp.net`,
          name: company,
        };
        await saveCreds();
        // Real Baileys closes with 515 restartRequired right after a pairing.
        closeWith(515, "simulated: restart required after pairing");
      });
    }
  } else {
    later(scenario.connectAfter, () => {
      hooks.onOpen();
      simulateLiveness(options, scenario, runtime, later);
      let n = 0;
      if (scenario.growPerMinute > 0) {
        later(
          Math.max(10, Math.round(60_000 / scenario.growPerMinute)),
          async () => {
            n++;
            await addPreKeys(1);
            if (n % 3 === 0) await addPeerKeys(n);
          },
          true,
        );
      }
      if (scenario.decryptFailuresPerMinute > 0 && signals) {
        // What decode-wa-message.js and messages-recv.js log for a message that fails to decrypt.
        // At "warn" like the Baileys driver's logger (never more verbose than the worker's).
        const quiet = options.logger.levelVal > 40 ? options.logger.level : "warn";
        const inner = options.logger.child({ component: "baileys" }, { level: quiet });
        const baileysLogger = wrapBaileysLogger(inner, company, signals);
        let failures = 0;
        later(
          Math.max(10, Math.round(60_000 / scenario.decryptFailuresPerMinute)),
          () => {
            const author = `${peer(failures++ % 3)}@s.whatsapp.net`;
            const id = randomBytes(8).toString("hex").toUpperCase();
            baileysLogger.error(
              {
                key: { remoteJid: author, fromMe: false, id },
                err: new Error(scenario.decryptReason),
                messageType: "msg",
                sender: author,
                author,
                isSessionRecordError: false,
              },
              "failed to decrypt message",
            );
            baileysLogger.info({ msgAttrs: { from: author, id }, retryCount: 1 }, "sent retry receipt");
          },
          true,
        );
      }
      if (scenario.disconnectAfter !== null) {
        later(scenario.disconnectAfter, () => {
          if (!scenario.recover) runtime.brokenCode = scenario.disconnectCode;
          closeWith(scenario.disconnectCode, `simulated disconnect (${scenario.disconnectCode})`);
        });
      }
    });
  }

  return {
    // A simulated socket always answers pings: a deaf one is open and answering, like the real failure.
    ping: async () => (closed ? null : 1),
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await writing;
      await closeAuth();
    },
  };
}

/** Inbound traffic until deafAfter, and the reachout timelock, of an open simulated socket. */
function simulateLiveness(
  options: ConnectOptions,
  scenario: SimulationScenario,
  runtime: Runtime,
  later: (ms: number, fn: () => void | Promise<void>, repeat?: boolean) => void,
): void {
  const report = options.hooks.onTraffic;
  if (!report) return;
  const openedAt = Date.now();
  if (scenario.inboundEvery !== null) {
    later(
      Math.max(10, scenario.inboundEvery),
      () => {
        if (scenario.deafAfter !== null && Date.now() - openedAt >= scenario.deafAfter) return;
        report({ kind: "frame" });
        report({ kind: "inbound" });
      },
      true,
    );
  }
  if (scenario.restrictAfter !== null && !runtime.restricted) {
    later(scenario.restrictAfter, () => {
      runtime.restricted = true;
      const ends = new Date(Date.now() + scenario.restrictFor);
      report({
        kind: "timelock",
        report: { isActive: true, timeEnforcementEnds: ends, enforcementType: "DEFAULT" },
      });
      later(scenario.restrictFor, () => report({ kind: "timelock", report: { isActive: false } }));
    });
  }
}
