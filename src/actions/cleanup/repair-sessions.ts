/**
 * The narrow repair of a decrypt storm (opt-in, `signals.repairSessions`): a peer whose messages keep
 * failing with Bad MAC gets only ITS session files backed up and removed, through the cleanup
 * executor's hold / backup / verify / re-hash / audit path. The next message of that peer then
 * fails once with "No session record", Baileys sends a retry receipt (with keys from the second
 * one) and the peer starts a new session from them (measured in test/repair-sessions.test.ts).
 *
 * What it never touches: anything but `session-*.json` files (never creds.json, app-state, pre-keys,
 * sender keys), our own user's sessions (a failed message from our own phone is not retried), and a
 * peer repaired in the last day (one audit row per try, ok or not).
 *
 * Peers are known only by hash (never the number): the planner hashes the jid each session file
 * stands for (`session-<user>[_1].<device>.json`: `_1` = LID) and follows `lid-mapping-<pn>.json`,
 * since Baileys keeps a contact's sessions under its LID once mapped.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { hashPeer } from "../../signals/hash-peer.js";
import type { SignalQueries } from "../../store/signals.js";
import type { Store } from "../../store/store.js";
import type { ActionContext } from "../action-context.js";
import { type CleanupRequest, type CleanupResult, runCleanup } from "./cleanup.js";
import type { CleanupFile, CleanupPlan } from "./plan-cleanup.js";

/** The audit action of a session repair. */
export const REPAIR_ACTION = "repair-sessions";
/** Decrypt-failure reasons that mean the session itself is out of step (libsignal's MAC check). */
export const BAD_MAC_REASONS = ["Bad MAC", "No matching sessions"] as const;
const DAY = 86_400_000;

const SESSION_RE = /^session-(\d+)(_(\d+))?\.(\d+)\.json$/;

/** The jid (no device) a session file stands for, or null for names that are not sessions. */
export function sessionFileJid(name: string): string | null {
  const m = SESSION_RE.exec(name);
  if (!m) return null;
  const domain = m[3];
  const server = domain === undefined ? "s.whatsapp.net" : domain === "1" ? "lid" : `hosted.${domain}`;
  return `${m[1]}@${server}`;
}

/** Inputs of planSessionRepair besides the files. */
export interface RepairTarget {
  /** hashPeer of the failing peer. */
  peer: string;
  /** The installation's peer-hash salt (store.signals.peerSalt()). */
  salt: string;
  /** Our own users (creds.me.id / creds.me.lid user parts): never repaired. */
  ownUsers: readonly string[];
  /** PN user → LID user, from the folder's lid-mapping files. */
  lidOf: ReadonlyMap<string, string>;
}

/** Pure: the session files of the hashed peer (all its devices, PN and LID), nothing else. */
export function planSessionRepair(files: readonly CleanupFile[], target: RepairTarget): CleanupPlan {
  const users = new Set<string>();
  for (const f of files) {
    const jid = sessionFileJid(f.name);
    if (jid && hashPeer(jid, target.salt) === target.peer) users.add(jid.split("@")[0] ?? "");
  }
  // A PN jid hashed in the logs may have its sessions under the LID; the reverse too.
  for (const [pn, lid] of target.lidOf) {
    if (hashPeer(`${pn}@s.whatsapp.net`, target.salt) === target.peer || users.has(pn)) users.add(lid);
    if (hashPeer(`${lid}@lid`, target.salt) === target.peer || users.has(lid)) users.add(pn);
  }
  for (const own of target.ownUsers) users.delete(own);
  const deletions = files
    .filter((f) => {
      const jid = sessionFileJid(f.name);
      return jid !== null && users.has(jid.split("@")[0] ?? "");
    })
    .map((f) => ({
      file: f.name,
      category: "session" as const,
      reason: `session repair of peer ${target.peer}`,
    }))
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const gone = new Set(deletions.map((d) => d.file));
  const bytesFreed = files.reduce((sum, f) => sum + (gone.has(f.name) ? f.size : 0), 0);
  const keep = files.length - deletions.length;
  return { delete: deletions, keep, keepCount: keep, bytesFreed, heldByMinAge: 0, heldUntil: null };
}

/** A peer due for a repair, with its Bad MAC failures in the window. */
export interface RepairCandidate {
  peer: string;
  failures: number;
}

/**
 * Peers with at least `repairAfter.count` Bad MAC failures in `repairAfter.window` that were not
 * tried in the last day. Empty unless `signals.repairSessions` is on.
 */
export function repairCandidates(
  store: { signals: Pick<SignalQueries, "peersWith">; audit: Pick<Store["audit"], "list"> },
  company: string,
  now: number,
  settings: { signals: { repairSessions: boolean; repairAfter: { count: number; window: number } } },
): RepairCandidate[] {
  const { repairSessions, repairAfter } = settings.signals;
  if (!repairSessions) return [];
  const from = Math.floor((now - repairAfter.window) / 60_000) * 60_000;
  const counts = new Map<string, number>();
  for (const reason of BAD_MAC_REASONS)
    for (const p of store.signals.peersWith(company, reason, from, now))
      counts.set(p.peer, (counts.get(p.peer) ?? 0) + p.count);
  const recent = new Set(
    store.audit
      .list(company)
      .filter((r) => r.action === REPAIR_ACTION && now - r.at < DAY)
      .map((r) => String(r.detail.peer)),
  );
  return [...counts]
    .filter(([peer, n]) => peer !== "other" && n >= repairAfter.count && !recent.has(peer))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([peer, failures]) => ({ peer, failures }));
}

/** Our own users and the folder's PN → LID mappings, read from creds.json and lid-mapping files. */
export async function readRepairContext(
  dir: string,
  files: readonly CleanupFile[],
): Promise<Omit<RepairTarget, "peer" | "salt">> {
  const ownUsers: string[] = [];
  try {
    const creds = JSON.parse(await readFile(path.join(dir, "creds.json"), "utf8")) as {
      me?: { id?: string; lid?: string };
    };
    for (const jid of [creds.me?.id, creds.me?.lid])
      if (jid) ownUsers.push((jid.split("@")[0] ?? "").split(":")[0] ?? "");
  } catch {
    // Without a readable creds.json nothing is repaired: the caller sees ownUsers empty and stops.
  }
  const lidOf = new Map<string, string>();
  for (const f of files) {
    const m = /^lid-mapping-(\d+)\.json$/.exec(f.name);
    if (!m?.[1]) continue;
    try {
      const lid = JSON.parse(await readFile(path.join(dir, f.name), "utf8")) as unknown;
      if (typeof lid === "string") lidOf.set(m[1], lid.split("@")[0] ?? lid);
    } catch {
      // A mapping being rewritten: that peer's PN sessions are still found by their own hash.
    }
  }
  return { ownUsers, lidOf };
}

/** What runSessionRepair is asked: the cleanup executor's request, plus the peer. */
export type SessionRepairRequest = Omit<CleanupRequest, "mode" | "narrow" | "dryRun" | "force"> & {
  peer: string;
  failures: number;
};

/**
 * Backs up the folder, verifies, removes only the peer's session files, audits (action
 * `repair-sessions`, detail.peer). Refuses without a readable creds.json (own sessions unknown).
 */
export async function runSessionRepair(
  context: ActionContext,
  options: SessionRepairRequest,
): Promise<CleanupResult> {
  const dir = path.join(context.sessionsDir, options.company);
  return runCleanup(context, {
    ...options,
    mode: "smart",
    narrow: {
      action: REPAIR_ACTION,
      detail: { peer: options.peer, failures: options.failures },
      // Read under the hold, like every plan: no socket writes into the folder meanwhile.
      plan: async (files) => {
        const known = await readRepairContext(dir, files);
        if (known.ownUsers.length === 0)
          return {
            delete: [],
            keep: files.length,
            keepCount: files.length,
            bytesFreed: 0,
            heldByMinAge: 0,
            heldUntil: null,
          };
        return planSessionRepair(files, {
          peer: options.peer,
          salt: context.store.signals.peerSalt(),
          ...known,
        });
      },
    },
  });
}
