/** The store: one database connection and every typed query set on it. */
import { createAlertStateQueries } from "./alert-state.js";
import { createAuditQueries } from "./audit.js";
import { createBackupVerificationQueries } from "./backup-verifications.js";
import { createBotQueries } from "./bot.js";
import { createCompanyQueries } from "./companies.js";
import { createConnectionQueries } from "./connections.js";
import { createControlQueries, createCursorQueries } from "./control.js";
import { createCredsSnapshotQueries } from "./creds-snapshots.js";
import { type Db, type OpenOptions, openDatabase } from "./db.js";
import { createFleetStatsQueries } from "./fleet-stats.js";
import { createHttpSessionQueries } from "./http-sessions.js";
import { createIncidentQueries } from "./incidents.js";
import { createLadderQueries } from "./ladder.js";
import { createLeaseQueries } from "./leases.js";
import { createLivenessQueries } from "./liveness.js";
import { createMuteQueries } from "./mutes.js";
import { createOutboxQueries } from "./outbox.js";
import { createProcessEventQueries } from "./process-events.js";
import { createSignalQueries } from "./signals.js";
import { createSilenceQueries } from "./silences.js";
import { createWorkerQueries } from "./workers.js";

/** Every query set, plus the connection for transactions. */
export interface Store {
  readonly db: Db;
  readonly companies: ReturnType<typeof createCompanyQueries>;
  readonly alertState: ReturnType<typeof createAlertStateQueries>;
  readonly outbox: ReturnType<typeof createOutboxQueries>;
  readonly connections: ReturnType<typeof createConnectionQueries>;
  readonly events: ReturnType<typeof createProcessEventQueries>;
  readonly leases: ReturnType<typeof createLeaseQueries>;
  readonly workers: ReturnType<typeof createWorkerQueries>;
  readonly control: ReturnType<typeof createControlQueries>;
  readonly cursors: ReturnType<typeof createCursorQueries>;
  readonly ladder: ReturnType<typeof createLadderQueries>;
  readonly audit: ReturnType<typeof createAuditQueries>;
  readonly credsSnapshots: ReturnType<typeof createCredsSnapshotQueries>;
  readonly mutes: ReturnType<typeof createMuteQueries>;
  readonly bot: ReturnType<typeof createBotQueries>;
  readonly fleetStats: ReturnType<typeof createFleetStatsQueries>;
  readonly signals: ReturnType<typeof createSignalQueries>;
  readonly incidents: ReturnType<typeof createIncidentQueries>;
  readonly silences: ReturnType<typeof createSilenceQueries>;
  readonly backupVerifications: ReturnType<typeof createBackupVerificationQueries>;
  readonly httpSessions: ReturnType<typeof createHttpSessionQueries>;
  readonly liveness: ReturnType<typeof createLivenessQueries>;
  /** Runs `fn` in one transaction (synchronous only: an async fn would commit before its body runs). */
  transaction<T>(fn: () => T): T;
  /** Closes the connection; idempotent. */
  close(): void;
}

/** Opens the database at `file` and prepares every query. */
export function openStore(file: string, options?: OpenOptions): Store {
  const db = openDatabase(file, options);
  return {
    db,
    companies: createCompanyQueries(db),
    alertState: createAlertStateQueries(db),
    outbox: createOutboxQueries(db),
    connections: createConnectionQueries(db),
    events: createProcessEventQueries(db),
    leases: createLeaseQueries(db),
    workers: createWorkerQueries(db),
    control: createControlQueries(db),
    cursors: createCursorQueries(db),
    ladder: createLadderQueries(db),
    audit: createAuditQueries(db),
    credsSnapshots: createCredsSnapshotQueries(db),
    mutes: createMuteQueries(db),
    bot: createBotQueries(db),
    fleetStats: createFleetStatsQueries(db),
    signals: createSignalQueries(db),
    incidents: createIncidentQueries(db),
    silences: createSilenceQueries(db),
    backupVerifications: createBackupVerificationQueries(db),
    httpSessions: createHttpSessionQueries(db),
    liveness: createLivenessQueries(db),
    // IMMEDIATE: the write lock is waited for (busy_timeout) before the first read; a deferred
    // read-then-write transaction gets "database is locked" at once if the other process wrote.
    transaction: (fn) => db.transaction(fn).immediate(),
    close: () => {
      if (db.open) db.close();
    },
  };
}
