/**
 * The worker's liveness check, run with each heartbeat: the pure detector over every open
 * company's counters, and the ping it asks for before a company is called deaf (one in flight per
 * company, never awaited by the heartbeat: a socket that does not answer must not hold the others).
 */

import type { Clock } from "../clock.js";
import type { WardenConfig } from "../config/load.js";
import { companySettings } from "../config/load.js";
import type { LivenessRecorder } from "../liveness/liveness-recorder.js";
import type { CompanySession } from "./company-session.js";

/** The check's state between heartbeats: the pings in flight. */
export interface LivenessCheck {
  run(sessions: ReadonlyMap<string, CompanySession>, config: WardenConfig): void;
  /** Resolves when every ping in flight has settled (tests, close). */
  settled(): Promise<void>;
}

/** Creates the worker's liveness check over `recorder`. */
export function createLivenessCheck(recorder: LivenessRecorder, clock: Clock): LivenessCheck {
  const asking = new Map<string, Promise<void>>();
  return {
    run(sessions, config) {
      for (const [company, session] of sessions) {
        if (session.state !== "open") continue;
        const settings = companySettings(config, company).liveness;
        const verdict = recorder.judge(company, settings);
        if (!verdict.ask || asking.has(company)) continue;
        const at = clock.now();
        const asked = session
          .ping(settings.queryTimeout)
          .catch(() => null)
          .then((rttMs) => {
            recorder.pinged(company, { at, rttMs });
            recorder.judge(company, settings);
          })
          .finally(() => asking.delete(company));
        asking.set(company, asked);
      }
    },
    async settled() {
      await Promise.all([...asking.values()]);
    },
  };
}
