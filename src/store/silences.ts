/**
 * Silences (`warden silence`, /silence; `warden mute` and /mute are a silence of one company): the
 * alerts of the matched companies are held, not sent, from `startsAt` until `endsAt` or until an
 * operator ends it; what was held is kept in silence_held and summarised once when it ends. A
 * silence with `company` null matches every company. Every set / end writes an audit row in the
 * same transaction.
 */
import type { Db } from "./db.js";

/** One silence. */
export interface Silence {
  id: number;
  /** null: every company. */
  company: string | null;
  startsAt: number;
  endsAt: number;
  reason: string;
  actor: string;
  createdAt: number;
  endedAt: number | null;
  endedBy: string | null;
  summarisedAt: number | null;
}

/** An alert held by a silence. */
export interface HeldAlert {
  silenceId: number;
  company: string;
  kind: string;
  level: string | null;
  text: string;
  at: number;
}

interface RawSilence {
  id: number;
  company: string | null;
  starts_at: number;
  ends_at: number;
  reason: string;
  actor: string;
  created_at: number;
  ended_at: number | null;
  ended_by: string | null;
  summarised_at: number | null;
}

const toSilence = (r: RawSilence): Silence => ({
  id: r.id,
  company: r.company,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  reason: r.reason,
  actor: r.actor,
  createdAt: r.created_at,
  endedAt: r.ended_at,
  endedBy: r.ended_by,
  summarisedAt: r.summarised_at,
});

/** The end in force: the operator's end when earlier than the planned one. */
export function silenceEnd(s: Silence): number {
  return s.endedAt !== null && s.endedAt < s.endsAt ? s.endedAt : s.endsAt;
}

/** True while the silence holds alerts. */
export function silenceActive(s: Silence, now: number): boolean {
  return s.startsAt <= now && now < silenceEnd(s);
}

/** Typed silence queries: the changes (audited), the reads, and the alerts silences hold. */
export function createSilenceQueries(db: Db) {
  return { ...silenceChanges(db), ...silenceReads(db), ...heldAlerts(db) };
}

/** Adding and ending silences, each audited in the same transaction. */
function silenceChanges(db: Db) {
  const insert = db.prepare(
    "INSERT INTO silences (company, starts_at, ends_at, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const byId = db.prepare<[number], RawSilence>("SELECT * FROM silences WHERE id = ?");
  const end = db.prepare("UPDATE silences SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL");
  const audit = db.prepare(
    "INSERT INTO audit (at, actor, company, action, ok, result, detail) VALUES (?, ?, ?, ?, 1, ?, ?)",
  );
  const add = db.transaction(
    (
      company: string | null,
      startsAt: number,
      endsAt: number,
      reason: string,
      actor: string,
      now: number,
      action: string,
    ) => {
      const id = Number(insert.run(company, startsAt, endsAt, reason, actor, now).lastInsertRowid);
      audit.run(
        now,
        actor,
        company ?? "*",
        action,
        `alerts silenced until ${new Date(endsAt).toISOString()}${reason ? `: ${reason}` : ""}`,
        JSON.stringify({ silence: id, until: endsAt, reason }),
      );
      return id;
    },
  );
  const endMany = db.transaction((ids: readonly number[], actor: string, now: number, action: string) => {
    let ended = 0;
    for (const id of ids) {
      const row = byId.get(id);
      if (!row || end.run(now, actor, id).changes === 0) continue;
      ended++;
      audit.run(now, actor, row.company ?? "*", action, "silence ended", JSON.stringify({ silence: id }));
    }
    return ended;
  });
  return {
    /** Adds a silence (company null: all); audited as `action` ("silence" or "mute"). Returns its id. */
    add(
      company: string | null,
      startsAt: number,
      endsAt: number,
      reason: string,
      actor: string,
      now: number,
      action = "silence",
    ): number {
      return add(company, startsAt, endsAt, reason, actor, now, action);
    },
    /** Ends silences now (audited as `action`); returns how many were still running. */
    end(ids: readonly number[], actor: string, now: number, action = "unsilence"): number {
      return endMany(ids, actor, now, action);
    },
  };
}

/** Which silences run, hold a company, or wait for their summary. */
function silenceReads(db: Db) {
  const unended = db.prepare<[number], RawSilence>(
    "SELECT * FROM silences WHERE ended_at IS NULL AND ends_at > ? ORDER BY id",
  );
  const byId = db.prepare<[number], RawSilence>("SELECT * FROM silences WHERE id = ?");
  const unsummarised = db.prepare<[number], RawSilence>(
    "SELECT * FROM silences WHERE summarised_at IS NULL AND (ends_at <= ? OR ended_at IS NOT NULL) ORDER BY id",
  );
  return {
    /** Silences not ended and not over at `now` (including ones that start later), oldest first. */
    current(now: number): Silence[] {
      return unended.all(now).map(toSilence);
    },
    /** The silence holding `company`'s alerts at `now` (the one ending last), if any. */
    holding(company: string, now: number): Silence | undefined {
      const matching = unended
        .all(now)
        .map(toSilence)
        .filter((s) => (s.company === null || s.company === company) && silenceActive(s, now));
      return matching.sort((a, b) => b.endsAt - a.endsAt)[0];
    },
    get(id: number): Silence | undefined {
      const row = byId.get(id);
      return row ? toSilence(row) : undefined;
    },
    /** Silences over (ended or past their end) whose held alerts were not summarised yet. */
    toSummarise(now: number): Silence[] {
      return unsummarised.all(now).map(toSilence);
    },
  };
}

/** The alerts a silence held, until its summary is sent. */
function heldAlerts(db: Db) {
  const markSummarised = db.prepare("UPDATE silences SET summarised_at = ? WHERE id = ?");
  const hold = db.prepare(
    "INSERT INTO silence_held (silence_id, company, kind, level, text, at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const held = db.prepare<
    [number],
    {
      silence_id: number;
      company: string;
      kind: string;
      level: string | null;
      text: string;
      at: number;
    }
  >("SELECT silence_id, company, kind, level, text, at FROM silence_held WHERE silence_id = ? ORDER BY id");
  const dropHeld = db.prepare("DELETE FROM silence_held WHERE silence_id = ?");
  return {
    /** Records an alert a silence held. */
    hold(alert: HeldAlert): void {
      hold.run(alert.silenceId, alert.company, alert.kind, alert.level, alert.text, alert.at);
    },
    /** The alerts a silence held, oldest first. */
    held(silenceId: number): HeldAlert[] {
      return held.all(silenceId).map((r) => ({
        silenceId: r.silence_id,
        company: r.company,
        kind: r.kind,
        level: r.level,
        text: r.text,
        at: r.at,
      }));
    },
    /** Marks a silence summarised and drops its held alerts. */
    summarised(silenceId: number, now: number): void {
      db.transaction(() => {
        markSummarised.run(now, silenceId);
        dropHeld.run(silenceId);
      })();
    },
  };
}

/** The silence query set. */
export type SilenceQueries = ReturnType<typeof createSilenceQueries>;
