/** Queries on process_events: things a process reported once (watcher fallback, bad config edits). */
import type { Db } from "./db.js";

/** Typed process-event queries. */
export function createProcessEventQueries(db: Db) {
  const insert = db.prepare("INSERT INTO process_events (at, component, kind, detail) VALUES (?, ?, ?, ?)");
  const list = db.prepare<[], { at: number; component: string; kind: string; detail: string }>(
    "SELECT at, component, kind, detail FROM process_events ORDER BY id",
  );
  return {
    /** Records one event. */
    add(at: number, component: string, kind: string, detail: string): void {
      insert.run(at, component, kind, detail);
    },
    /** Every event, oldest first. */
    list() {
      return list.all();
    },
  };
}
