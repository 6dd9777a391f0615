/**
 * Numbered schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
 * holds the last applied number. Never edit a shipped migration: add the next one.
 */

/** One migration step. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "fleet watch: companies, history, alert state, outbox, connection state",
    sql: `
      CREATE TABLE companies (
        id              TEXT PRIMARY KEY,
        first_seen_at   INTEGER NOT NULL,
        removed_at      INTEGER,
        scanned_at      INTEGER NOT NULL,
        total           INTEGER NOT NULL,
        counted         INTEGER NOT NULL,
        by_category     TEXT NOT NULL,
        pre_keys        INTEGER NOT NULL,
        max_pre_key_id  INTEGER,
        creds_state     TEXT NOT NULL,
        creds_error     TEXT,
        newest_write_at INTEGER,
        irregular       TEXT NOT NULL DEFAULT '[]'
      );
      CREATE TABLE count_history (
        company TEXT NOT NULL,
        at      INTEGER NOT NULL,
        total   INTEGER NOT NULL,
        counted INTEGER NOT NULL,
        PRIMARY KEY (company, at)
      ) WITHOUT ROWID;
      CREATE TABLE alert_state (
        company       TEXT PRIMARY KEY,
        level         TEXT NOT NULL,
        level_since   INTEGER NOT NULL,
        last_alert_at INTEGER,
        updated_at    INTEGER NOT NULL
      );
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at      INTEGER NOT NULL,
        company         TEXT,
        kind            TEXT NOT NULL,
        level           TEXT,
        channel         TEXT NOT NULL,
        target          TEXT NOT NULL,
        silent          INTEGER NOT NULL,
        html            TEXT NOT NULL,
        text            TEXT NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        sent_at         INTEGER,
        last_error      TEXT
      );
      CREATE INDEX outbox_pending ON outbox (status, channel, target, id);
      CREATE TABLE chat_migrations (
        from_chat TEXT PRIMARY KEY,
        to_chat   TEXT NOT NULL,
        at        INTEGER NOT NULL
      );
      CREATE TABLE connection_state (
        company    TEXT PRIMARY KEY,
        state      TEXT NOT NULL,
        since      INTEGER NOT NULL,
        reason     TEXT,
        code       INTEGER,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE process_events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        component TEXT NOT NULL,
        kind      TEXT NOT NULL,
        detail    TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "workers: leases, heartbeats, transitions, pairing, control requests",
    sql: `
      CREATE TABLE workers (
        holder       TEXT PRIMARY KEY,
        instance     INTEGER NOT NULL,
        pid          INTEGER NOT NULL,
        pm_id        INTEGER,
        started_at   INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        status       TEXT NOT NULL DEFAULT 'alive',
        status_at    INTEGER NOT NULL
      );
      CREATE TABLE leases (
        company     TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      );
      CREATE TABLE lease_history (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        company        TEXT NOT NULL,
        holder         TEXT NOT NULL,
        pid            INTEGER NOT NULL,
        acquired_at    INTEGER NOT NULL,
        released_at    INTEGER,
        release_reason TEXT
      );
      CREATE INDEX lease_history_company ON lease_history (company, id);
      CREATE TABLE transitions (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        company    TEXT NOT NULL,
        from_state TEXT,
        to_state   TEXT NOT NULL,
        code       INTEGER,
        message    TEXT,
        holder     TEXT,
        at         INTEGER NOT NULL
      );
      CREATE INDEX transitions_company ON transitions (company, id);
      ALTER TABLE connection_state ADD COLUMN down_since INTEGER;
      CREATE TABLE company_control (
        company       TEXT PRIMARY KEY,
        desired       TEXT NOT NULL DEFAULT 'run',
        pairing_phone TEXT,
        updated_at    INTEGER NOT NULL
      );
      CREATE TABLE pairing (
        company      TEXT PRIMARY KEY,
        qr           TEXT,
        qr_at        INTEGER,
        pairing_code TEXT,
        code_at      INTEGER
      );
      CREATE TABLE control_requests (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        company      TEXT NOT NULL,
        action       TEXT NOT NULL,
        args         TEXT NOT NULL DEFAULT '{}',
        requested_by TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        picked_at    INTEGER,
        picked_by    TEXT,
        done_at      INTEGER,
        ok           INTEGER,
        result       TEXT
      );
      CREATE INDEX control_pending ON control_requests (done_at, id);
      CREATE TABLE cursors (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: "recovery: ladder memory and steps, outages, audit log, creds snapshots",
    sql: `
      CREATE TABLE ladder_state (
        company    TEXT PRIMARY KEY,
        memory     TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE ladder_steps (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        company TEXT NOT NULL,
        step    TEXT NOT NULL,
        reason  TEXT NOT NULL,
        result  TEXT NOT NULL,
        at      INTEGER NOT NULL
      );
      CREATE INDEX ladder_steps_company ON ladder_steps (company, id);
      CREATE TABLE outages (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER,
        reason     TEXT NOT NULL,
        down       INTEGER NOT NULL
      );
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        company TEXT NOT NULL,
        action  TEXT NOT NULL,
        ok      INTEGER NOT NULL,
        result  TEXT NOT NULL,
        detail  TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_company ON audit (company, id);
      CREATE TABLE creds_snapshots (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        company   TEXT NOT NULL,
        file      TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        data      BLOB NOT NULL,
        encrypted INTEGER NOT NULL,
        at        INTEGER NOT NULL
      );
      CREATE INDEX creds_snapshots_file ON creds_snapshots (company, file, id);
    `,
  },
  {
    version: 4,
    name: "live / stale counts per company and in the history (issue 8)",
    sql: `
      ALTER TABLE companies ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE companies ADD COLUMN basis TEXT NOT NULL DEFAULT 'counted';
      ALTER TABLE companies ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE companies ADD COLUMN held_by_min_age INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE companies ADD COLUMN held_until INTEGER;
      ALTER TABLE count_history ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 5,
    name: "mutes set from the CLI or the bot",
    sql: `
      CREATE TABLE mutes (
        company TEXT PRIMARY KEY,
        until   INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        at      INTEGER NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: "telegram bot: callbacks and confirmations, refusal throttle, QR photo messages",
    sql: `
      CREATE TABLE bot_callbacks (
        id         TEXT PRIMARY KEY,
        action     TEXT NOT NULL,
        company    TEXT NOT NULL,
        chat       TEXT NOT NULL,
        args       TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        used_at    INTEGER,
        used_by    TEXT,
        result     TEXT
      );
      CREATE INDEX bot_callbacks_created ON bot_callbacks (created_at);
      CREATE TABLE bot_refusals (
        user_id    TEXT PRIMARY KEY,
        replied_at INTEGER NOT NULL
      );
      CREATE TABLE bot_qr_messages (
        company    TEXT NOT NULL,
        chat       TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        qr         TEXT NOT NULL,
        sent_at    INTEGER NOT NULL,
        PRIMARY KEY (company, chat)
      );
    `,
  },
  {
    version: 7,
    name: "signal health: per-minute signal buckets, hashed peers, signal alert state",
    sql: `
      CREATE TABLE signal_buckets (
        company TEXT NOT NULL,
        minute  INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        reason  TEXT NOT NULL,
        count   INTEGER NOT NULL,
        PRIMARY KEY (company, minute, kind, reason)
      ) WITHOUT ROWID;
      CREATE INDEX signal_buckets_minute ON signal_buckets (minute);
      CREATE TABLE signal_peers (
        company TEXT NOT NULL,
        minute  INTEGER NOT NULL,
        peer    TEXT NOT NULL,
        reason  TEXT NOT NULL,
        count   INTEGER NOT NULL,
        PRIMARY KEY (company, minute, peer, reason)
      ) WITHOUT ROWID;
      CREATE INDEX signal_peers_minute ON signal_peers (minute);
      CREATE TABLE signal_alert_state (
        company       TEXT PRIMARY KEY,
        active        INTEGER NOT NULL,
        since         INTEGER NOT NULL,
        last_alert_at INTEGER,
        updated_at    INTEGER NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: "on call: incidents (ack, escalation), silences and the alerts they held, sent message ids, backup verifications",
    sql: `
      CREATE TABLE incidents (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        company      TEXT NOT NULL,
        family       TEXT NOT NULL,
        severity     TEXT,
        episode      INTEGER,
        title        TEXT NOT NULL,
        opened_at    INTEGER NOT NULL,
        resolved_at  INTEGER,
        acked_at     INTEGER,
        acked_by     TEXT,
        acked_name   TEXT,
        escalated_at INTEGER
      );
      CREATE INDEX incidents_open ON incidents (company, family) WHERE resolved_at IS NULL;
      ALTER TABLE outbox ADD COLUMN incident_id INTEGER;
      ALTER TABLE outbox ADD COLUMN message_id INTEGER;
      CREATE INDEX outbox_incident ON outbox (incident_id) WHERE incident_id IS NOT NULL;
      CREATE TABLE silences (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        company       TEXT,
        starts_at     INTEGER NOT NULL,
        ends_at       INTEGER NOT NULL,
        reason        TEXT NOT NULL,
        actor         TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        ended_at      INTEGER,
        ended_by      TEXT,
        summarised_at INTEGER
      );
      CREATE TABLE silence_held (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        silence_id INTEGER NOT NULL,
        company    TEXT NOT NULL,
        kind       TEXT NOT NULL,
        level      TEXT,
        text       TEXT NOT NULL,
        at         INTEGER NOT NULL
      );
      CREATE INDEX silence_held_silence ON silence_held (silence_id);
      INSERT INTO silences (company, starts_at, ends_at, reason, actor, created_at, summarised_at)
        SELECT company, at, until, 'warden mute', actor, at, NULL FROM mutes;
      DROP TABLE mutes;
      CREATE TABLE backup_verifications (
        company     TEXT NOT NULL,
        name        TEXT NOT NULL,
        verified_at INTEGER NOT NULL,
        ok          INTEGER NOT NULL,
        problems    TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (company, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: "trust boundaries: QR asks, refusal counts, HTTP sessions, installation secrets",
    sql: `
      CREATE TABLE bot_qr_asks (
        company  TEXT NOT NULL,
        chat     TEXT NOT NULL,
        user_id  INTEGER NOT NULL,
        asked_at INTEGER NOT NULL,
        until    INTEGER NOT NULL,
        PRIMARY KEY (company, chat)
      );
      ALTER TABLE bot_refusals ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE bot_callbacks ADD COLUMN user_id INTEGER;
      ALTER TABLE bot_callbacks ADD COLUMN message_id INTEGER;
      CREATE TABLE http_sessions (
        hash       TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE installation_secrets (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE INDEX audit_at ON audit (at);
    `,
  },
  {
    version: 10,
    name: "liveness: per-minute traffic counters, learned gaps, liveness state, deaf steps, fleet incidents",
    sql: `
      CREATE TABLE liveness_buckets (
        company        TEXT NOT NULL,
        minute         INTEGER NOT NULL,
        inbound        INTEGER NOT NULL DEFAULT 0,
        receipts       INTEGER NOT NULL DEFAULT 0,
        frames         INTEGER NOT NULL DEFAULT 0,
        sends_ok       INTEGER NOT NULL DEFAULT 0,
        sends_rejected INTEGER NOT NULL DEFAULT 0,
        rejected_codes TEXT,
        PRIMARY KEY (company, minute)
      ) WITHOUT ROWID;
      CREATE INDEX liveness_buckets_minute ON liveness_buckets (minute);
      CREATE TABLE liveness_gaps (
        company     TEXT NOT NULL,
        hour        INTEGER NOT NULL,
        longest_gap INTEGER NOT NULL,
        PRIMARY KEY (company, hour)
      ) WITHOUT ROWID;
      CREATE INDEX liveness_gaps_hour ON liveness_gaps (hour);
      CREATE TABLE liveness_state (
        company           TEXT PRIMARY KEY,
        opened_at         INTEGER,
        last_inbound_at   INTEGER,
        last_receipt_at   INTEGER,
        last_frame_at     INTEGER,
        last_send_at      INTEGER,
        last_send_code    INTEGER,
        state             TEXT NOT NULL,
        since             INTEGER NOT NULL,
        reason            TEXT,
        usual_gap_ms      INTEGER,
        silent_for_ms     INTEGER,
        threshold_ms      INTEGER,
        restricted_reason TEXT,
        restricted_until  INTEGER,
        query_at          INTEGER,
        query_rtt_ms      INTEGER,
        checked_at        INTEGER NOT NULL
      );
      CREATE TABLE liveness_ladder (
        company    TEXT PRIMARY KEY,
        memory     TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE fleet_incidents (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        companies  TEXT NOT NULL,
        detail     TEXT NOT NULL,
        closed_at  INTEGER,
        closed_by  TEXT
      );
    `,
  },
  {
    version: 11,
    name: "transitions by time: recent transitions without reading a company's or the fleet's whole history",
    // transitions is history (never pruned). At 10,000 companies x 60 rows the fleet correlation's
    // logouts read all 600,000 rows each ladder pass (~155 ms, one block), and each snapshot's
    // events since the down-history window read all of its company's.
    sql: `
      CREATE INDEX transitions_at ON transitions (at);
      CREATE INDEX transitions_company_at ON transitions (company, at);
    `,
  },
];
