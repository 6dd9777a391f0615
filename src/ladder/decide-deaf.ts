/**
 * The ladder's liveness steps, pure: for an open company its worker judged deaf, one alert ("acme:
 * open but deaf: no incoming messages for 2 h 10 min (usual gap at this hour 6 min)"), then the
 * cheap, safe steps: a reconnect; if nothing was received `liveness.settleFor` after it, the socket
 * recreated in a fresh worker slot (the `recreate` control request); if still nothing, one "human
 * needed". Traffic coming back closes the episode with one resolved message. Nothing here deletes
 * or stops a company. A restricted company gets one alert and one resolved message and no step:
 * reconnecting or cleaning would not lift a restriction and looks like automation. A fleet incident
 * holds the steps (the runner names it).
 */

import { wardenCommand } from "../cli-invocation.js";
import { formatInstant, formatSpan } from "../liveness/format-span.js";
import type { LadderStep } from "./ladder-types.js";

/** What the deaf steps remember per company (stored as JSON in liveness_ladder). */
export interface DeafMemory {
  /** when this deaf episode was first seen (null: not deaf) */
  deafSince: number | null;
  reconnectAt: number | null;
  recreateAt: number | null;
  humanNeededAt: number | null;
  /** one "held" note per episode */
  heldAt: number | null;
  /** the restriction alerted on (null: none in force) */
  restrictedSince: number | null;
  restrictedReason: string | null;
}

/** The memory of a company never deaf nor restricted. */
export const EMPTY_DEAF_MEMORY: Readonly<DeafMemory> = Object.freeze({
  deafSince: null,
  reconnectAt: null,
  recreateAt: null,
  humanNeededAt: null,
  heldAt: null,
  restrictedSince: null,
  restrictedReason: null,
});

/** A stored memory completed with defaults (older rows, hand edits). */
export function toDeafMemory(raw: unknown): DeafMemory {
  if (!raw || typeof raw !== "object") return { ...EMPTY_DEAF_MEMORY };
  return { ...EMPTY_DEAF_MEMORY, ...(raw as Partial<DeafMemory>) };
}

/** The liveness facts the steps read (the worker's liveness_state row). */
export interface DeafFacts {
  state: string;
  reason: string | null;
  lastInboundAt: number | null;
  silentForMs: number | null;
  usualGapMs: number | null;
  restrictedReason: string | null;
  restrictedUntil: number | null;
}

/** Everything the deaf steps need about one company at one check. */
export interface DeafLadderInput {
  company: string;
  /** connection_state is "open" */
  open: boolean;
  /** ladder.enabled and the operator's wish is "run" */
  active: boolean;
  liveness: DeafFacts | null;
  settleFor: number;
  /** why steps are held (a fleet incident), or null */
  held: string | null;
  memory: DeafMemory;
}

/** Alert topics of the liveness steps. */
export type DeafTopic = "deaf" | "deaf_resolved" | "deaf_human_needed" | "restricted" | "restricted_resolved";

/** What the runner carries out. */
export type DeafAction =
  | { kind: "alert"; topic: DeafTopic; level: "ok" | "warning" | "critical"; text: string }
  | { kind: "reconnect" }
  | { kind: "recreate" };

/** The steps' answer. */
export interface DeafDecision {
  actions: { action: DeafAction; step: LadderStep }[];
  notes: LadderStep[];
  memory: DeafMemory;
}

/** Decides the liveness steps for one company now. */
export function decideDeaf(input: DeafLadderInput, now: number): DeafDecision {
  const out: DeafDecision = { actions: [], notes: [], memory: { ...input.memory } };
  if (!input.active) return out;
  restriction(input, out, now);
  deafness(input, out, now);
  return out;
}

function push(out: DeafDecision, action: DeafAction, step: string, reason: string): void {
  out.actions.push({ action, step: { step, reason } });
}

function restriction(input: DeafLadderInput, out: DeafDecision, now: number): void {
  const { company } = input;
  const mem = out.memory;
  const reason = input.liveness?.restrictedReason ?? null;
  if (reason !== null && mem.restrictedSince === null) {
    mem.restrictedSince = now;
    mem.restrictedReason = reason;
    const until = input.liveness?.restrictedUntil ?? null;
    const ends = until === null ? "WhatsApp did not say until when" : `until ${formatInstant(until)}`;
    const text = `${company}: restricted by WhatsApp: ${reason}, ${ends}. wa-warden does not reconnect or clean a restricted company (it would not help and looks like automation); it tells you when the restriction ends.`;
    push(out, { kind: "alert", topic: "restricted", level: "warning", text }, "alert:restricted", text);
  } else if (reason === null && mem.restrictedSince !== null) {
    const text = `${company}: restriction lifted (${mem.restrictedReason ?? "restricted"}; ${formatSpan(now - mem.restrictedSince)}).`;
    mem.restrictedSince = null;
    mem.restrictedReason = null;
    push(
      out,
      { kind: "alert", topic: "restricted_resolved", level: "ok", text },
      "alert:restricted_resolved",
      text,
    );
  }
}

function deafness(input: DeafLadderInput, out: DeafDecision, now: number): void {
  const { company, liveness } = input;
  const mem = out.memory;
  if (mem.deafSince !== null) {
    if (liveness?.lastInboundAt != null && liveness.lastInboundAt > mem.deafSince) {
      const text = `${company}: hearing again: incoming messages resumed after ${formatSpan(liveness.lastInboundAt - mem.deafSince)} deaf${stepsDone(mem)}.`;
      Object.assign(mem, {
        deafSince: null,
        reconnectAt: null,
        recreateAt: null,
        humanNeededAt: null,
        heldAt: null,
      });
      push(out, { kind: "alert", topic: "deaf_resolved", level: "ok", text }, "alert:deaf_resolved", text);
      return;
    }
    if (!input.open || mem.humanNeededAt !== null) return; // down: the down ladder has it
    if (holds(input, out, now)) return;
    nextStep(input, out, now);
    return;
  }
  if (!input.open || liveness?.state !== "deaf") return;
  mem.deafSince = now;
  const usual =
    liveness.usualGapMs === null ? "" : ` (usual gap at this hour ${formatSpan(liveness.usualGapMs)})`;
  const why = liveness.reason ? `; ${liveness.reason}` : "";
  const text = `${company}: open but deaf: no incoming messages for ${formatSpan(liveness.silentForMs ?? 0)}${usual}${why}.`;
  push(out, { kind: "alert", topic: "deaf", level: "warning", text }, "alert:deaf", text);
  if (holds(input, out, now)) return;
  mem.reconnectAt = now;
  push(out, { kind: "reconnect" }, "reconnect:deaf", `open but deaf: ${text}`);
}

/** True (with one note per episode) when a fleet incident or a restriction holds the steps. */
function holds(input: DeafLadderInput, out: DeafDecision, now: number): boolean {
  const why =
    input.held ??
    (input.liveness?.restrictedReason
      ? `restricted (${input.liveness.restrictedReason}): a reconnect would not help`
      : null);
  if (why === null) return false;
  if (out.memory.heldAt === null) {
    out.memory.heldAt = now;
    out.notes.push({ step: "hold:deaf", reason: `deaf steps held: ${why}` });
  }
  return true;
}

function nextStep(input: DeafLadderInput, out: DeafDecision, now: number): void {
  const { company, settleFor } = input;
  const mem = out.memory;
  if (mem.reconnectAt === null) {
    mem.reconnectAt = now;
    push(out, { kind: "reconnect" }, "reconnect:deaf", `${company} open but deaf (steps were held)`);
    return;
  }
  if (mem.recreateAt === null) {
    if (now < mem.reconnectAt + settleFor) return;
    mem.recreateAt = now;
    push(
      out,
      { kind: "recreate" },
      "recreate:deaf",
      `${company}: nothing received ${formatSpan(now - mem.reconnectAt)} after the reconnect: the socket is recreated in a fresh worker slot`,
    );
    return;
  }
  if (now < mem.recreateAt + settleFor) return;
  mem.humanNeededAt = now;
  const text = `${company}: still deaf: nothing received ${formatSpan(now - (mem.deafSince ?? now))} after a reconnect and a new socket. wa-warden does nothing more; check the phone (is WhatsApp Business open and linked?), the worker logs, then \`${wardenCommand(`reconnect ${company}`)}\`.`;
  push(
    out,
    { kind: "alert", topic: "deaf_human_needed", level: "critical", text },
    "alert:deaf_human_needed",
    text,
  );
}

function stepsDone(mem: DeafMemory): string {
  const done = [
    mem.reconnectAt !== null ? "a reconnect" : "",
    mem.recreateAt !== null ? "a new socket" : "",
  ].filter(Boolean);
  return done.length === 0 ? "" : ` (after ${done.join(" and ")})`;
}
