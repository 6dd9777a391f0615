/**
 * The simulated driver: the same Driver contract with no network. It writes key files with
 * Baileys' own functions (getNextPreKeys for pre-keys, the auth state's keys.set for sessions,
 * sender keys and lid mappings, so names and encodings are Baileys') and follows the company's
 * `simulation` scenario: connect after a delay, grow N pre-keys per minute, disconnect with a
 * given code after T, recover or keep failing, fail to decrypt D messages per minute (the
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

type CompanyAuth = Awaited<ReturnType<typeof openCompanyAuthState>>;
type Later = (ms: number, fn: () => void | Promise<void>, repeat?: boolean) => void;

/** A simulated peer's phone number: peer(0) is the first contact. */
const peer = (n: number) => `${5500000000000 + n}`;

async function startSimulatedSocket(
  options: ConnectOptions,
  scenario: SimulationScenario,
  runtime: Runtime,
  signals?: SignalRecorder,
): Promise<DriverSocket> {
  const auth = await openCompanyAuthState({
    company: options.company,
    dir: options.dir,
    logger: options.logger,
    onWrite: options.onAuthWrite,
    onFailure: (err) => options.hooks.onAuthFailure?.(err),
    ...(options.authStore ? { store: options.authStore } : {}),
  });
  const socket = new SimulatedSocket(options, scenario, runtime, auth, signals);
  await socket.start();
  return {
    // A simulated socket always answers pings: a deaf one is open and answering, like the real failure.
    ping: async () => (socket.closed ? null : 1),
    close: () => socket.close(),
  };
}

/** One simulated socket: its timers (every step runs after the previous write) and the scenario's steps. */
class SimulatedSocket {
  closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private writing = Promise.resolve();

  constructor(
    private readonly options: ConnectOptions,
    private readonly scenario: SimulationScenario,
    private readonly runtime: Runtime,
    private readonly auth: CompanyAuth,
    private readonly signals: SignalRecorder | undefined,
  ) {}

  /** Runs `fn` after `ms` (every `ms` with `repeat`), queued behind the previous step's writes. */
  readonly later: Later = (ms, fn, repeat = false) => {
    const timer = (repeat ? setInterval : setTimeout)(() => {
      if (this.closed) return;
      if (!repeat) this.timers.delete(timer);
      this.writing = this.writing
        .then(fn)
        .catch((err) => this.options.logger.error({ err }, "simulated driver step failed"));
    }, ms);
    this.timers.add(timer);
  };

  /** Arms the scenario: still broken, pairing, or connecting. */
  async start(): Promise<void> {
    const { scenario, runtime } = this;
    const { creds } = this.auth.state;
    if (creds.nextPreKeyId <= 1 && scenario.initialPreKeys > 0)
      await this.addPreKeys(scenario.initialPreKeys);
    if (runtime.brokenCode !== undefined || !scenario.connect) {
      const code = runtime.brokenCode ?? scenario.disconnectCode;
      this.later(scenario.connectAfter, () =>
        this.closeWith(code, "simulated: the session is still failing"),
      );
    } else if (!creds.registered) {
      this.startPairing();
    } else {
      this.later(scenario.connectAfter, () => this.onOpen());
    }
  }

  async close(): Promise<void> {
    this.stopTimers();
    await this.writing;
    await this.auth.close();
  }

  private stopTimers(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private closeWith(code: number, message: string): void {
    if (this.closed) return;
    this.stopTimers();
    this.options.hooks.onClose(code, message);
  }

  /** As the socket's uploadPreKeys does: generate and store, then move the creds counters. */
  private async addPreKeys(count: number): Promise<void> {
    const { update } = await getNextPreKeys(this.auth.state, count);
    Object.assign(this.auth.state.creds, update);
    await this.auth.saveCreds();
  }

  /** Sessions, sender keys and lid mappings as a chatting account accumulates them. */
  private async addPeerKeys(n: number): Promise<void> {
    await this.auth.state.keys.set({
      session: { [`${peer(n)}.0`]: randomBytes(64) },
      "lid-mapping": { [peer(n)]: `${200000000000000 + n}` },
      ...(n % 5 === 0 ? { "sender-key": { [`1203630${n}@g.us--${peer(0)}--0`]: randomBytes(48) } } : {}),
    });
  }

  /** An unpaired folder: a QR now and every 20 s, a pairing code when asked, paired after `pairAfter`. */
  private startPairing(): void {
    const { hooks, company } = this.options;
    const { creds } = this.auth.state;
    let round = 0;
    const showQr = () => hooks.onQr(`SIM-QR:${company}:${++round}:${randomBytes(8).toString("hex")}`);
    this.later(0, showQr);
    this.later(20_000, showQr, true);
    if (this.options.pairingPhone)
      this.later(0, () => hooks.onPairingCode(randomBytes(4).toString("hex").toUpperCase()));
    const { pairAfter } = this.scenario;
    if (pairAfter === null) return;
    this.later(pairAfter, async () => {
      creds.registered = true;
      creds.me = {
        id: `${peer(Number.parseInt(randomBytes(2).toString("hex"), 16))}:1@s.whatsapp.net`,
        name: company,
      };
      await this.auth.saveCreds();
      // Real Baileys closes with 515 restartRequired right after a pairing.
      this.closeWith(515, "simulated: restart required after pairing");
    });
  }

  /** Open: liveness traffic, key growth, decrypt failures, and the scenario's disconnect. */
  private onOpen(): void {
    const { scenario, runtime } = this;
    this.options.hooks.onOpen();
    simulateLiveness(this.options, scenario, runtime, this.later);
    this.growKeys();
    this.failDecrypts();
    const { disconnectAfter, disconnectCode } = scenario;
    if (disconnectAfter === null) return;
    this.later(disconnectAfter, () => {
      if (!scenario.recover) runtime.brokenCode = disconnectCode;
      this.closeWith(disconnectCode, `simulated disconnect (${disconnectCode})`);
    });
  }

  /** `growPerMinute` pre-keys a minute, and a peer's keys every third one. */
  private growKeys(): void {
    const { growPerMinute } = this.scenario;
    if (growPerMinute <= 0) return;
    let n = 0;
    const every = Math.max(10, Math.round(60_000 / growPerMinute));
    this.later(
      every,
      async () => {
        n++;
        await this.addPreKeys(1);
        if (n % 3 === 0) await this.addPeerKeys(n);
      },
      true,
    );
  }

  /**
   * `decryptFailuresPerMinute` failures through the wrapped Baileys logger, with what
   * decode-wa-message.js and messages-recv.js log for a message that fails to decrypt.
   */
  private failDecrypts(): void {
    const { scenario, signals, options } = this;
    if (scenario.decryptFailuresPerMinute <= 0 || !signals) return;
    // At "warn" like the Baileys driver's logger (never more verbose than the worker's).
    const quiet = options.logger.levelVal > 40 ? options.logger.level : "warn";
    const inner = options.logger.child({ component: "baileys" }, { level: quiet });
    const baileysLogger = wrapBaileysLogger(inner, options.company, signals);
    let failures = 0;
    const every = Math.max(10, Math.round(60_000 / scenario.decryptFailuresPerMinute));
    this.later(
      every,
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
}

/** Inbound traffic until deafAfter, and the reachout timelock, of an open simulated socket. */
function simulateLiveness(
  options: ConnectOptions,
  scenario: SimulationScenario,
  runtime: Runtime,
  later: Later,
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
