/**
 * Mutes (`warden mute`, /mute, the Mute 1h button): shorthand for a silence of one company
 * (src/store/silences.ts), so a mute holds the company's alerts and they are summarised when it
 * ends. Muting again ends the company's earlier one-company silences and starts a new one. Each set
 * / clear is audited ("mute" / "unmute") in the same transaction.
 */
import type { Db } from "./db.js";
import { createSilenceQueries } from "./silences.js";

/** A company's mute. */
export interface Mute {
  company: string;
  until: number;
  actor: string;
  at: number;
}

/** Why a mute was set, as its silence records it. */
const MUTE_REASON = "warden mute";

/** Typed mute queries: the CLI and the Telegram bot call exactly these. */
export function createMuteQueries(db: Db) {
  const silences = createSilenceQueries(db);
  const own = db.prepare<[string], { id: number; ends_at: number; actor: string; created_at: number }>(
    "SELECT id, ends_at, actor, created_at FROM silences WHERE company = ? AND ended_at IS NULL ORDER BY ends_at DESC, id DESC",
  );
  const set = db.transaction((company: string, until: number, actor: string, now: number) => {
    const earlier = own
      .all(company)
      .filter((r) => r.ends_at > now)
      .map((r) => r.id);
    if (earlier.length > 0) silences.end(earlier, actor, now, "unmute");
    silences.add(company, now, until, MUTE_REASON, actor, now, "mute");
  });
  return {
    /** Mutes `company` until `until` (ms epoch), replacing an earlier mute; audited. */
    set(company: string, until: number, actor: string, now: number): void {
      set(company, until, actor, now);
    },
    /** Ends the company's own silences; audited (actor "unknown" when not given). Returns whether one was running. */
    clear(company: string, actor = "unknown", now = Date.now()): boolean {
      const ids = own
        .all(company)
        .filter((r) => r.ends_at > now)
        .map((r) => r.id);
      return silences.end(ids, actor, now, "unmute") > 0;
    },
    /** The company's own silence ending last, not ended by an operator (it may be over: compare `until` with now). */
    get(company: string): Mute | undefined {
      const row = own.get(company);
      return row ? { company, until: row.ends_at, actor: row.actor, at: row.created_at } : undefined;
    },
  };
}

/** The mute query set. */
export type MuteQueries = ReturnType<typeof createMuteQueries>;
