/**
 * The recovery ladder, pure: what to do for one company, as a function of its state, its settings,
 * the ladder's memory of this down episode, and now. The runner carries the actions out.
 *
 * This file is the entry: it prunes the budget to its window, clears an outage hold once the
 * network is back, and hands the company to its side of the ladder:
 * - `decide-down.ts`: a company that is down (wait, warn, reconnect, then cleanup / reset / QR
 *   required with key-state evidence, or one "human needed" alert without it);
 * - `decide-connected.ts`: a connected company (recovery, emergency and maintenance cleanups);
 * - `decision-draft.ts`: what both go through (the budget, outage holds, alerts).
 * Then, on either side, flapping: one "flapping" alert once ladder.flapAlertAt connections of the
 * last hour closed before ladder.stableAfter, one "stable again" when a connection lasts.
 */

import { formatDuration } from "../config/duration.js";
import { decideConnected } from "./decide-connected.js";
import { decideDown } from "./decide-down.js";
import { alert, type Draft } from "./decision-draft.js";
import { describeFlaps } from "./flapping.js";
import type { Decision, LadderInput, LadderMemory } from "./ladder-types.js";

export {
  type AlertTopic,
  type Decision,
  EMPTY_MEMORY,
  type LadderAction,
  type LadderInput,
  type LadderMemory,
  type LadderStep,
  type PlannedAction,
} from "./ladder-types.js";

/** Decides what the ladder does for one company now; feed the returned memory back next time. */
export function decide(input: LadderInput, now: number): Decision {
  if (!input.settings.ladder.enabled || input.desired === "stop")
    return { actions: [], notes: [], memory: input.memory };
  const { window } = input.settings.ladder.budget;
  const mem: LadderMemory = {
    ...input.memory,
    actions: input.memory.actions.filter((t) => now - t < window),
  };
  if (!input.fleetOffline) mem.heldAt = null;
  const draft: Draft = { input, now, mem, actions: [], notes: [] };
  if (input.state === "open") decideConnected(draft);
  else decideDown(draft);
  flapping(draft);
  return { actions: draft.actions, notes: draft.notes, memory: draft.mem };
}

/** One "flapping" alert per flapping spell, one "stable again" when a connection lasts stableAfter. */
function flapping(draft: Draft): void {
  const { input, now, mem } = draft;
  const { stableAfter, flapAlertAt } = input.settings.ladder;
  const stable =
    input.state === "open" &&
    (input.openSince === null || input.openSince === undefined || now - input.openSince >= stableAfter);
  const flaps = input.flaps ?? [];
  const alerted = mem.flappingAt ?? null;
  if (alerted === null && !stable && flaps.length >= flapAlertAt) {
    mem.flappingAt = now;
    const text = `${input.company} is flapping: in the last hour ${describeFlaps(flaps, formatDuration)}. A connection shorter than ${formatDuration(stableAfter)} (ladder.stableAfter) does not end the down episode: the ladder goes on as for a company that stayed down, and this alert is not repeated until it is stable.`;
    alert(draft, "flapping", "warning", text);
  } else if (alerted !== null && stable) {
    mem.flappingAt = null;
    const text = `${input.company} is stable again: connected for ${formatDuration(now - (input.openSince ?? alerted))} (flapping since ${formatDuration(now - alerted)} ago).`;
    alert(draft, "stable", "ok", text);
  }
}
