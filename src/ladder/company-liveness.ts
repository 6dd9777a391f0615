/**
 * A company's liveness view as every surface shows it (status, /status, dashboard, /api, metrics):
 * the worker's row and the connection state from the store, plus the ladder's flapping verdict.
 * `flappingFor` is the one place that verdict comes in.
 */
import {
  type FlappingInput,
  type LivenessView,
  NOT_FLAPPING,
  toLivenessView,
} from "../liveness/liveness-view.js";
import type { Store } from "../store/store.js";

/**
 * Whether the ladder sees `company` flapping now. The flapping detector lives with the ladder's
 * evidence (src/ladder/flapping.ts); until it is wired here every company reads as not flapping.
 */
export function flappingFor(_store: Store, _company: string, _now: number): FlappingInput {
  return NOT_FLAPPING;
}

/** The liveness view of `company` now. */
export function companyLiveness(store: Store, company: string, now: number): LivenessView {
  const state = store.connections.get(company)?.state ?? null;
  return toLivenessView(store.liveness.get(company), state, flappingFor(store, company, now), now);
}
