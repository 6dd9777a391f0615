/**
 * The rows one chunk of a ladder pass decides with: each table read once over the chunk's id range
 * (connection, wish, ladder memory, deaf steps' facts, deaf memory, recent transitions) instead of
 * about nine single-row queries per company. A chunk's rows are read in the same synchronous turn
 * as its decisions and never kept for a later turn: a background cleanup that finishes between two
 * turns writes its company's ladder memory (lastCleanup), and a decision writes back the memory it
 * read.
 */
import type { ConnectionRow } from "../store/connections.js";
import type { DeafFactsRow } from "../store/liveness.js";
import type { Store } from "../store/store.js";
import { FLAP_WINDOW_MS } from "./flapping.js";
import { type LadderMemory, toMemory } from "./ladder-types.js";

/** A connection change as the flap and episode rules read it (connections.eventsSince). */
export interface ConnectionEvent {
  to: string;
  code: number | null;
  at: number;
}

/** A company's stored ladder memory: the JSON text as stored and the memory it reads as. */
export interface StoredMemory {
  text: string;
  memory: LadderMemory;
}

/** One chunk's rows by company; a company absent from a map has no row in that table. */
export interface ChunkRows {
  connections: ReadonlyMap<string, ConnectionRow>;
  /** absent: the default, run */
  desired: ReadonlyMap<string, "run" | "stop">;
  memory: ReadonlyMap<string, StoredMemory>;
  /** absent: no verdict the deaf steps can act on (store.liveness.deafFactsBetween) */
  liveness: ReadonlyMap<string, DeafFactsRow>;
  deafMemory: ReadonlyMap<string, unknown>;
  /** Events since the company's lookback; absent: a long episode's lookback, read per company. */
  events: ReadonlyMap<string, ConnectionEvent[]>;
}

/** How far back a decision reads the company's connection events: the flap window or the episode. */
export function lookbackOf(
  conn: Pick<ConnectionRow, "downSince">,
  episode: number | null,
  now: number,
): number {
  return Math.min(now - FLAP_WINDOW_MS, episode ?? now, conn.downSince ?? now);
}

/** Reads the rows of the companies with `after < id <= last`, for decisions at `now`. */
export function readChunkRows(store: Store, after: string, last: string, now: number): ChunkRows {
  const connections = store.connections.between(after, last);
  const memory = new Map<string, StoredMemory>();
  for (const [company, text] of store.ladder.memoryTextBetween(after, last))
    memory.set(company, { text, memory: toMemory(JSON.parse(text)) });
  return {
    connections,
    desired: store.control.desiredBetween(after, last),
    memory,
    liveness: store.liveness.deafFactsBetween(after, last),
    deafMemory: store.liveness.ladderMemoryBetween(after, last),
    events: recentEvents(store, now, connections, memory),
  };
}

/** No event since the lookback: one frozen list shared by the companies of a pass (read only). */
const NO_EVENTS: ConnectionEvent[] = Object.freeze([]) as unknown as ConnectionEvent[];

/** The events since each company's lookback, for the companies whose lookback is the flap window. */
function recentEvents(
  store: Store,
  now: number,
  connections: ReadonlyMap<string, ConnectionRow>,
  memory: ReadonlyMap<string, StoredMemory>,
): Map<string, ConnectionEvent[]> {
  const window = now - FLAP_WINDOW_MS;
  const events = new Map<string, ConnectionEvent[]>();
  const ranged: string[] = [];
  let allOpen = true;
  for (const [company, conn] of connections) {
    const lookback = lookbackOf(conn, memory.get(company)?.memory.episode ?? null, now);
    // connection_state is written only by connections.transition(), which records a transition at
    // `now` and sets `since` to the same `now`: a connection unchanged since before the lookback has
    // no transition since the lookback.
    if (conn.since < lookback) events.set(company, NO_EVENTS);
    else if (lookback === window) {
      ranged.push(company);
      if (conn.state !== "open") allOpen = false;
    }
  }
  if (ranged.length === 0) return events;
  // A connected company's events serve only to count its flaps (flapsOf: a connection that closed
  // again), none without a close after an open: when every company to read is connected, only
  // those with such a pair in the window are read (at 10,000 companies that had just connected,
  // the events of all of them were a quarter of a pass). A down company needs them all (its
  // episode's start, episodeStartOf).
  const found = allOpen
    ? store.connections.flapEventsOf(ranged, window)
    : store.connections.eventsOf(ranged, window);
  for (const company of ranged) events.set(company, found.get(company) ?? []);
  return events;
}
