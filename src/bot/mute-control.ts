/**
 * What /mute, /unmute and the Mute 1h button need from the alerting side: the mutes store that
 * `warden mute` writes too (src/store/mutes.ts), so a mute from either side is the same mute.
 */

/** Mutes a company's alerts until a time, or lifts the mute; `actor` is "telegram:<user id>". */
export interface MuteControl {
  mute(company: string, until: number, actor: string): void;
  unmute(company: string, actor: string): void;
}

/** The shape of the store's mute queries, as far as the bot uses them. */
export interface MuteQueries {
  set(company: string, until: number, actor: string, now: number): void;
  clear(company: string, actor?: string, now?: number): unknown;
}

/** A MuteControl on the mutes store; the actor of an unmute is recorded in the audit too. */
export function createStoreMuteControl(mutes: MuteQueries, now: () => number): MuteControl {
  return {
    mute: (company, until, actor) => mutes.set(company, until, actor, now()),
    unmute: (company, actor) => {
      mutes.clear(company, actor, now());
    },
  };
}
