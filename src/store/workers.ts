/** Worker processes: registration, heartbeats, and the supervisor's dead/alive verdicts. */
import type { Db } from "./db.js";

/** A worker row. */
export interface WorkerRow {
  holder: string;
  instance: number;
  pid: number;
  pmId: number | null;
  startedAt: number;
  heartbeatAt: number;
  status: "alive" | "stopped" | "dead";
  statusAt: number;
}

interface RawWorker {
  holder: string;
  instance: number;
  pid: number;
  pm_id: number | null;
  started_at: number;
  heartbeat_at: number;
  status: WorkerRow["status"];
  status_at: number;
}

const toRow = (r: RawWorker): WorkerRow => ({
  holder: r.holder,
  instance: r.instance,
  pid: r.pid,
  pmId: r.pm_id,
  startedAt: r.started_at,
  heartbeatAt: r.heartbeat_at,
  status: r.status,
  statusAt: r.status_at,
});

/** Typed worker queries. */
export function createWorkerQueries(db: Db) {
  const register = db.prepare(`
    INSERT INTO workers (holder, instance, pid, pm_id, started_at, heartbeat_at, status, status_at)
    VALUES (?, ?, ?, ?, ?, ?, 'alive', ?)
    ON CONFLICT (holder) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, status = 'alive', status_at = excluded.status_at`);
  const beat = db.prepare("UPDATE workers SET heartbeat_at = ? WHERE holder = ? AND status = 'alive'");
  const setStatus = db.prepare("UPDATE workers SET status = ?, status_at = ? WHERE holder = ?");
  const silent = db.prepare<[number], RawWorker>(
    "SELECT * FROM workers WHERE status = 'alive' AND heartbeat_at < ? ORDER BY instance",
  );
  const list = db.prepare<[], RawWorker>("SELECT * FROM workers ORDER BY started_at");
  return {
    /** Registers a starting worker. */
    register(w: { holder: string; instance: number; pid: number; pmId: number | null }, now: number): void {
      register.run(w.holder, w.instance, w.pid, w.pmId, now, now, now);
    },
    /** Records a heartbeat; false when the supervisor has declared this worker dead. */
    heartbeat(holder: string, now: number): boolean {
      return beat.run(now, holder).changes === 1;
    },
    /** Marks a worker stopped (clean exit) or dead (silent). */
    setStatus(holder: string, status: WorkerRow["status"], now: number): void {
      setStatus.run(status, now, holder);
    },
    /** Alive workers whose last heartbeat is older than `before`. */
    silentSince(before: number): WorkerRow[] {
      return silent.all(before).map(toRow);
    },
    /** Every worker ever registered. */
    list(): WorkerRow[] {
      return list.all().map(toRow);
    },
  };
}
