/**
 * A company's liveness view as every surface shows it (status, /status, dashboard, /api, metrics):
 * the worker's row and the connection state from the store, plus the ladder's flapping verdict.
 * `flappingFor` is the one place that verdict comes in.
 */

import { formatDuration } from "../config/duration.js";
import {
  type FlappingInput,
  type LivenessView,
  NOT_FLAPPING,
  toLivenessView,
} from "../liveness/liveness-view.js";
import type { Store } from "../store/store.js";
import type { LadderMemory } from "./ladder-types.js";

/**
 * Whether the ladder sees `company` flapping now: its own verdict, kept in its memory from the
 * "flapping" alert (ladder.flapAlertAt short connections within an hour, flapping.ts) until the
 * "stable again" one, so every surface says what the alerts said.
 */
export function flappingFor(store: Store, company: string, now: number): FlappingInput {
  const memory = store.ladder.memory(company) as Partial<LadderMemory> | undefined;
  const since = memory?.flappingAt ?? null;
  if (since === null) return NOT_FLAPPING;
  return { flapping: true, detail: `flapping for ${formatDuration(Math.max(0, now - since))}` };
}

/** The liveness view of `company` now. */
export function companyLiveness(store: Store, company: string, now: number): LivenessView {
  const state = store.connections.get(company)?.state ?? null;
  return toLivenessView(store.liveness.get(company), state, flappingFor(store, company, now), now);
}
