/**
 * What /mute, /unmute and the Mute 1h button need from the alerting side. Issue 10 builds the mutes
 * store (src/store/mutes.ts, migration 5: `createMuteQueries(db)` with set/clear/get); this branch
 * does not have it, so the supervisor passes no MuteControl and the bot says muting is not
 * available yet. At merge, `createStoreMuteControl` below is pointed at that store.
 */

/** Mutes a company's alerts until a time, or lifts the mute; `actor` is "telegram:<user id>". */
export interface MuteControl {
  mute(company: string, until: number, actor: string): void;
  unmute(company: string, actor: string): void;
}

/** The shape of issue 10's mute queries, as far as the bot uses them. */
export interface MuteQueries {
  set(company: string, until: number, actor: string, now: number): void;
  clear(company: string): void;
}

/** A MuteControl on the mutes store (wired by the supervisor once store/mutes.ts exists). */
export function createStoreMuteControl(mutes: MuteQueries, now: () => number): MuteControl {
  return {
    mute: (company, until, actor) => mutes.set(company, until, actor, now()),
    unmute: (company) => mutes.clear(company),
  };
}
