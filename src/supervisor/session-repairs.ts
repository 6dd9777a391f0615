/**
 * Runs the opt-in session repairs (`signals.repairSessions`) in the background of the
 * supervisor: one at a time, for peers `repairCandidates` names. A repair stops the company through
 * its worker (the socket keeps sessions cached in memory, so it must reopen anyway), backs up,
 * removes the peer's session files, audits, and lets the worker reconnect; the operators get one
 * message either way. Peers appear only hashed.
 */
import type { ActionContext } from "../actions/action-context.js";
import { REPAIR_ACTION, repairCandidates, runSessionRepair } from "../actions/cleanup/repair-sessions.js";
import type { Clock } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";

/** What the repairs need. */
export interface SessionRepairsOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: () => WardenConfig;
  /** The supervisor's action context (backups root, key, store access). */
  actions: ActionContext;
  /** Queues an operator message about a company. */
  notify: (company: string, title: string, detail: string, payload: Record<string, unknown>) => void;
}

/** The background repairs. */
export interface SessionRepairs {
  /** Starts the next due repair unless one runs; resolves when it ended. */
  check(): Promise<void>;
  /** Waits for a running repair. Idempotent. */
  close(): Promise<void>;
}

/** Creates the session repairs runner. */
export function createSessionRepairs(options: SessionRepairsOptions): SessionRepairs {
  const { store, clock, logger } = options;
  let running: Promise<void> | undefined;
  let closed = false;

  const next = (): { company: string; peer: string; failures: number } | undefined => {
    const config = options.config();
    const now = clock.now();
    for (const company of store.signals.companiesSince(now - 86_400_000)) {
      const settings = companySettings(config, company);
      const [first] = repairCandidates(store, company, now, settings);
      if (first) return { company, ...first };
    }
    return undefined;
  };

  const repair = async (company: string, peer: string, failures: number) => {
    const settings = companySettings(options.config(), company);
    const window = formatDuration(settings.signals.repairAfter.window);
    const payload = { kind: REPAIR_ACTION, company, peer, failures };
    try {
      const result = await runSessionRepair(options.actions, {
        company,
        settings,
        actor: "supervisor",
        stopFirst: true,
        peer,
        failures,
      });
      options.notify(
        company,
        `Session repair for ${company}: peer ${peer}`,
        `${failures} Bad MAC failures in ${window}: removed ${result.deleted} session file(s) of that peer after a verified backup (${result.backup ?? "none needed"}). Its next message fails once, then the retry receipt rebuilds the session.`,
        { ...payload, deleted: result.deleted, backup: result.backup },
      );
    } catch (err) {
      // The audit row is written by the executor; a refusal (connected elsewhere) is tried again tomorrow.
      logger.error({ company, peer, err }, `Session repair of ${company} failed: ${describeError(err)}`);
      options.notify(
        company,
        `Session repair for ${company} failed: peer ${peer}`,
        describeError(err),
        payload,
      );
    }
  };

  return {
    check() {
      if (closed || running) return running ?? Promise.resolve();
      const due = next();
      if (!due) return Promise.resolve();
      running = repair(due.company, due.peer, due.failures).finally(() => {
        running = undefined;
      });
      return running;
    },
    async close() {
      closed = true;
      await running;
    },
  };
}
