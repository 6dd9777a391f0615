/** Queries on process_events: things a process reported once (watcher fallback, bad config edits). */
import type { Db } from "./db.js";

/** Typed process-event queries. */
export function createProcessEventQueries(db: Db) {
  const insert = db.prepare("INSERT INTO process_events (at, component, kind, detail) VALUES (?, ?, ?, ?)");
  const list = db.prepare<[], { at: number; component: string; kind: string; detail: string }>(
    "SELECT at, component, kind, detail FROM process_events ORDER BY id",
  );
  const lastOf = db.prepare<
    [string, string],
    { at: number; component: string; kind: string; detail: string }
  >("SELECT at, component, kind, detail FROM process_events WHERE kind IN (?, ?) ORDER BY id DESC LIMIT 1");
  return {
    /** Records one event. */
    add(at: number, component: string, kind: string, detail: string): void {
      insert.run(at, component, kind, detail);
    },
    /** The newest event of either kind (e.g. "probe-ok" / "probe-failed"). */
    lastOf(kind: string, other: string) {
      return lastOf.get(kind, other);
    },
    /** Every event, oldest first. */
    list() {
      return list.all();
    },
  };
}
