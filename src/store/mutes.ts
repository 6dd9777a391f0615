/**
 * Mutes set from the CLI (`warden mute`) or the bot (/mute): a company's alerts are held until
 * `until` without editing a file. The alert rules take the later of this and the config's
 * `mutedUntil`. Each set / clear writes an audit row in the same transaction.
 */
import type { Db } from "./db.js";

/** A company's mute. */
export interface Mute {
  company: string;
  until: number;
  actor: string;
  at: number;
}

/** Typed mute queries: the CLI and the Telegram bot call exactly these. */
export function createMuteQueries(db: Db) {
  const upsert = db.prepare(`
    INSERT INTO mutes (company, until, actor, at) VALUES (?, ?, ?, ?)
    ON CONFLICT (company) DO UPDATE SET until = excluded.until, actor = excluded.actor, at = excluded.at`);
  const remove = db.prepare("DELETE FROM mutes WHERE company = ?");
  const get = db.prepare<[string], Mute>("SELECT company, until, actor, at FROM mutes WHERE company = ?");
  const audit = db.prepare(
    "INSERT INTO audit (at, actor, company, action, ok, result, detail) VALUES (?, ?, ?, ?, 1, ?, ?)",
  );
  const set = db.transaction((company: string, until: number, actor: string, now: number) => {
    upsert.run(company, until, actor, now);
    audit.run(
      now,
      actor,
      company,
      "mute",
      `alerts muted until ${new Date(until).toISOString()}`,
      JSON.stringify({ until }),
    );
  });
  const clear = db.transaction((company: string, actor: string, now: number): boolean => {
    const had = remove.run(company).changes > 0;
    audit.run(now, actor, company, "unmute", had ? "alerts unmuted" : "was not muted", "{}");
    return had;
  });
  return {
    /** Mutes `company` until `until` (ms epoch), replacing an earlier mute; audited. */
    set(company: string, until: number, actor: string, now: number): void {
      set(company, until, actor, now);
    },
    /** Removes the mute; audited (actor "unknown" when not given). Returns whether one was set. */
    clear(company: string, actor = "unknown", now = Date.now()): boolean {
      return clear(company, actor, now);
    },
    /** The stored mute (it may have expired: compare `until` with now). */
    get(company: string): Mute | undefined {
      return get.get(company);
    },
  };
}

/** The mute query set. */
export type MuteQueries = ReturnType<typeof createMuteQueries>;
