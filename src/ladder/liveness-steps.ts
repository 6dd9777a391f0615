/**
 * The runner's shell around decide-deaf.ts: from the company's liveness row and the steps' memory
 * (read by the runner with its chunk's rows, chunk-rows.ts), stores the new memory and every step (ladder_steps: the audit of what the ladder did), queues the
 * alerts and files the reconnect / recreate control requests, in one transaction.
 */
import type { DeafFactsRow } from "../store/liveness.js";
import type { Store } from "../store/store.js";
import { decideDeaf, toDeafMemory } from "./decide-deaf.js";
import type { LadderNotify } from "./ladder-types.js";

const ACTOR = "ladder";
const TITLES: Record<string, string> = {
  deaf: "open but deaf",
  deaf_resolved: "hearing again",
  deaf_human_needed: "still deaf: human needed",
  restricted: "restricted by WhatsApp",
  restricted_resolved: "restriction lifted",
};

/** What one company's liveness steps need. */
export interface LivenessStepsContext {
  store: Store;
  notify: LadderNotify;
  now: number;
}

/**
 * Runs the liveness steps for one company. `stored`: its liveness facts and deaf steps' memory as
 * read in this turn (store.liveness.deafFactsBetween / ladderMemoryBetween); no facts: nothing the
 * steps can act on.
 */
export function runLivenessSteps(
  ctx: LivenessStepsContext,
  company: string,
  options: { open: boolean; active: boolean; settleFor: number; held: string | null },
  stored: { liveness: DeafFactsRow | undefined; memory: unknown },
): void {
  // No facts and no memory: nothing to start nor to follow (decide-deaf.ts acts on a deaf verdict,
  // a restriction or its own memory), at 10,000 companies a pass most of them.
  if (stored.liveness === undefined && stored.memory === undefined) return;
  const { store, notify, now } = ctx;
  const row = stored.liveness;
  const memory = toDeafMemory(stored.memory);
  const decision = decideDeaf({ company, ...options, liveness: row ?? null, memory }, now);
  if (decision.actions.length === 0 && decision.notes.length === 0) return;
  store.transaction(() => {
    store.liveness.setLadderMemory(company, decision.memory, now);
    for (const note of decision.notes) store.ladder.addStep(company, note.step, note.reason, "decided", now);
    for (const { action, step } of decision.actions) {
      const stepId = store.ladder.addStep(company, step.step, step.reason, "decided", now);
      if (action.kind === "alert") {
        notify(company, `${company}: ${TITLES[action.topic] ?? action.topic}`, action.text, {
          kind: `liveness-${action.topic}`,
          company,
          level: action.level,
        });
        store.ladder.setStepResult(stepId, "alert queued");
      } else {
        const id = store.control.request(company, action.kind, { reason: "deaf" }, ACTOR, now);
        store.ladder.setStepResult(stepId, `${action.kind} requested (#${id})`);
      }
    }
  });
}
