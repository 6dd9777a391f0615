/**
 * Connection state as the workers report it: every transition is a row (company, from, to, code,
 * message, at) and connection_state holds the current one, with `down_since` (when the company
 * last left `open`) derived from the transitions as they are recorded.
 */
import type { Db } from "./db.js";

/** A company's connection as the workers last reported it. */
export interface ConnectionRow {
  state: string;
  since: number;
  reason: string | null;
  code: number | null;
  /** When the company last stopped being connected (null while open). */
  downSince: number | null;
}

/** A company's connection as `status --json` and /api show it. */
export interface ConnectionView {
  state: string;
  since: number | null;
  reason: string | null;
  downSince: number | null;
}

/** The shown connection of a stored row: "unknown" until a worker reports. */
export function toConnectionView(row: ConnectionRow | undefined): ConnectionView {
  return row
    ? { state: row.state, since: row.since, reason: row.reason, downSince: row.downSince }
    : { state: "unknown", since: null, reason: null, downSince: null };
}

/** One recorded transition. */
export interface TransitionRow {
  id: number;
  company: string;
  from: string | null;
  to: string;
  code: number | null;
  message: string | null;
  holder: string | null;
  at: number;
}

/** Current pairing material of a company. */
export interface PairingRow {
  qr: string | null;
  qrAt: number | null;
  pairingCode: string | null;
  codeAt: number | null;
}

interface RawTransition {
  id: number;
  company: string;
  from_state: string | null;
  to_state: string;
  code: number | null;
  message: string | null;
  holder: string | null;
  at: number;
}

/** Typed connection-state queries. */
export function createConnectionQueries(db: Db) {
  const get = db.prepare<
    [string],
    { state: string; since: number; reason: string | null; code: number | null; down_since: number | null }
  >("SELECT state, since, reason, code, down_since FROM connection_state WHERE company = ?");
  const upsert = db.prepare(`
    INSERT INTO connection_state (company, state, since, reason, code, updated_at, down_since) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET state = excluded.state, since = excluded.since, reason = excluded.reason,
      code = excluded.code, updated_at = excluded.updated_at, down_since = excluded.down_since`);
  const insertTransition = db.prepare(
    "INSERT INTO transitions (company, from_state, to_state, code, message, holder, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const transitionsAfter = db.prepare<[number], RawTransition>(
    "SELECT * FROM transitions WHERE id > ? ORDER BY id",
  );
  const transitionsOf = db.prepare<[string], RawTransition>(
    "SELECT * FROM transitions WHERE company = ? ORDER BY id",
  );
  const closeCodesSince = db.prepare<[string, number], { code: number; n: number }>(
    "SELECT code, COUNT(*) AS n FROM transitions WHERE company = ? AND at >= ? AND code IS NOT NULL GROUP BY code ORDER BY code",
  );
  const eventsSince = db.prepare<[string, number], { to_state: string; code: number | null; at: number }>(
    "SELECT to_state, code, at FROM transitions WHERE company = ? AND at >= ? ORDER BY id",
  );
  const lastCloseSince = db.prepare<
    [string, number],
    { code: number | null; message: string | null; at: number }
  >(
    "SELECT code, message, at FROM transitions WHERE company = ? AND at >= ? AND code IS NOT NULL ORDER BY id DESC LIMIT 1",
  );
  const putQr = db.prepare(`
    INSERT INTO pairing (company, qr, qr_at) VALUES (?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET qr = excluded.qr, qr_at = excluded.qr_at`);
  const putCode = db.prepare(`
    INSERT INTO pairing (company, pairing_code, code_at) VALUES (?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET pairing_code = excluded.pairing_code, code_at = excluded.code_at`);
  const clearPairing = db.prepare("DELETE FROM pairing WHERE company = ?");
  const getPairing = db.prepare<
    [string],
    { qr: string | null; qr_at: number | null; pairing_code: string | null; code_at: number | null }
  >("SELECT qr, qr_at, pairing_code, code_at FROM pairing WHERE company = ?");

  const toTransition = (r: RawTransition): TransitionRow => ({
    id: r.id,
    company: r.company,
    from: r.from_state,
    to: r.to_state,
    code: r.code,
    message: r.message,
    holder: r.holder,
    at: r.at,
  });

  return {
    ...rangeQueries(db),
    ...outageQueries(db),
    /** The last reported connection state, or undefined when no worker has reported yet. */
    get(company: string): ConnectionRow | undefined {
      const r = get.get(company);
      return r
        ? { state: r.state, since: r.since, reason: r.reason, code: r.code, downSince: r.down_since }
        : undefined;
    },
    /**
     * Records a transition and makes it the current state, in one transaction. IMMEDIATE: it reads
     * the current row and then writes; in WAL mode a deferred one whose read predates another
     * process's commit (a worker, the CLI) cannot upgrade and fails SQLITE_BUSY at once, without
     * busy_timeout. IMMEDIATE takes the write lock first, so it waits its turn instead.
     */
    transition(
      t: { company: string; to: string; code: number | null; message: string | null; holder: string | null },
      now: number,
    ): void {
      db.transaction(() => {
        const current = get.get(t.company);
        const from = current?.state ?? null;
        const downSince =
          t.to === "open" ? null : current ? (current.state === "open" ? now : current.down_since) : now;
        insertTransition.run(t.company, from, t.to, t.code, t.message, t.holder, now);
        upsert.run(t.company, t.to, now, t.message, t.code, now, downSince ?? (t.to === "open" ? null : now));
        if (t.to === "open") clearPairing.run(t.company);
        // IMMEDIATE: a read-then-write transaction that began deferred fails at once with "database
        // is locked" (no busy wait) when the other process wrote meanwhile; it killed a worker at start.
      }).immediate();
    },
    /** Transitions recorded after id `after`, oldest first. */
    transitionsAfter(after: number): TransitionRow[] {
      return transitionsAfter.all(after).map(toTransition);
    },
    /** Close codes recorded for a company since `since`, with how often each was seen. */
    closeCodesSince(company: string, since: number): { code: number; n: number }[] {
      return closeCodesSince.all(company, since);
    },
    /** A company's connection changes since `since` (state entered, close code, time), oldest first. */
    eventsSince(company: string, since: number): { to: string; code: number | null; at: number }[] {
      return eventsSince.all(company, since).map((r) => ({ to: r.to_state, code: r.code, at: r.at }));
    },
    /** The last close with a code since `since`, with the worker's message (the error text). */
    lastCloseSince(
      company: string,
      since: number,
    ): { code: number | null; message: string | null; at: number } | null {
      return lastCloseSince.get(company, since) ?? null;
    },
    /** Every transition of one company, oldest first. */
    transitionsOf(company: string): TransitionRow[] {
      return transitionsOf.all(company).map(toTransition);
    },
    /** Stores the current QR string (it rotates). */
    putQr(company: string, qr: string, now: number): void {
      putQr.run(company, qr, now);
    },
    /** Stores the current pairing code. */
    putPairingCode(company: string, code: string, now: number): void {
      putCode.run(company, code, now);
    },
    /** Current pairing material, if any. */
    pairing(company: string): PairingRow | undefined {
      const r = getPairing.get(company);
      return r ? { qr: r.qr, qrAt: r.qr_at, pairingCode: r.pairing_code, codeAt: r.code_at } : undefined;
    },
  };
}

/** The connections and recent events of a range of companies, each one query (a ladder chunk's). */
function rangeQueries(db: Db) {
  // Rows as arrays (raw) made into objects here: a third cheaper than better-sqlite3's named rows
  // at 10,000 companies a pass.
  const between = db
    .prepare<[string, string], [string, string, number, string | null, number | null, number | null]>(
      "SELECT company, state, since, reason, code, down_since FROM connection_state WHERE company > ? AND company <= ?",
    )
    .raw(true);
  // Each of a list of companies (JSON), one seek each on (company, at): transitions is history
  // (never pruned), and a range of companies read every row of their whole history.
  const eventsOf = db
    .prepare<[string, number], [string, string, number | null, number]>(
      `SELECT t.company, t.to_state, t.code, t.at FROM json_each(?) j
       JOIN transitions t INDEXED BY transitions_company_at ON t.company = j.value AND t.at >= ?
       ORDER BY t.company, t.id`,
    )
    .raw(true);
  // The same, only for the companies with a close after an open since `since` (a flap's shape).
  const flapEventsOf = db
    .prepare<{ companies: string; since: number }, [string, string, number | null, number]>(
      `WITH closed AS (
         SELECT DISTINCT c.company FROM json_each(@companies) j
         JOIN transitions c INDEXED BY transitions_company_at ON c.company = j.value AND c.at >= @since
         WHERE c.to_state != 'open' AND EXISTS (
           SELECT 1 FROM transitions o INDEXED BY transitions_company_at
           WHERE o.company = c.company AND o.at >= @since AND o.to_state = 'open' AND o.id < c.id))
       SELECT t.company, t.to_state, t.code, t.at FROM closed
       JOIN transitions t INDEXED BY transitions_company_at ON t.company = closed.company AND t.at >= @since
       ORDER BY t.company, t.id`,
    )
    .raw(true);
  const grouped = (rows: [string, string, number | null, number][]) => {
    const events = new Map<string, { to: string; code: number | null; at: number }[]>();
    for (const [company, to, code, at] of rows) {
      const event = { to, code, at };
      const list = events.get(company);
      if (list) list.push(event);
      else events.set(company, [event]);
    }
    return events;
  };
  return {
    /** The connections of the companies with `after < id <= last` (one range read), by company. */
    between(after: string, last: string): Map<string, ConnectionRow> {
      const rows = new Map<string, ConnectionRow>();
      for (const [company, state, since, reason, code, downSince] of between.all(after, last))
        rows.set(company, { state, since, reason, code, downSince });
      return rows;
    },
    /**
     * eventsSince for each of `companies` (one statement, an index seek each), by company; a
     * company with no event since `since` is absent.
     */
    eventsOf(
      companies: readonly string[],
      since: number,
    ): Map<string, { to: string; code: number | null; at: number }[]> {
      return companies.length === 0 ? new Map() : grouped(eventsOf.all(JSON.stringify(companies), since));
    },
    /**
     * eventsOf for only the companies with a close recorded after an open since `since` (none
     * other can have flapped since then); the others are absent.
     */
    flapEventsOf(
      companies: readonly string[],
      since: number,
    ): Map<string, { to: string; code: number | null; at: number }[]> {
      return companies.length === 0
        ? new Map()
        : grouped(flapEventsOf.all({ companies: JSON.stringify(companies), since }));
    },
  };
}

/**
 * The outage verdict's input (src/ladder/outage.ts) in two statements: the companies the operator
 * wants running (present, wish "run", reported by a worker, creds.json not corrupt) are counted,
 * and only those with a down_since that are neither open nor pairing are listed (at 10,000
 * companies the ladder made an object of each of them every pass to find none down).
 */
function outageQueries(db: Db) {
  const wanted = `FROM companies c JOIN connection_state s ON s.company = c.id
    LEFT JOIN company_control k ON k.company = c.id
    WHERE c.removed_at IS NULL AND c.creds_state != 'corrupt' AND COALESCE(k.desired, 'run') = 'run'`;
  const count = db.prepare<[], [number]>(`SELECT COUNT(*) ${wanted}`).raw(true);
  const down = db
    .prepare<[], [string, string, number]>(
      `SELECT c.id, s.state, s.down_since ${wanted}
         AND s.down_since IS NOT NULL AND s.state NOT IN ('open', 'pairing') ORDER BY c.id`,
    )
    .raw(true);
  return {
    /** How many companies are wanted running, and the wanted ones that may be down, in id order. */
    wantedDown(): { wanted: number; down: { company: string; state: string; downSince: number }[] } {
      return {
        wanted: count.get()?.[0] ?? 0,
        down: down.all().map(([company, state, downSince]) => ({ company, state, downSince })),
      };
    },
  };
}
