/**
 * Whose key file is it: the user part of a Baileys key file name, and our own users from
 * creds.json. Our own user's files are never deleted by a cleanup (invariant 14): a message from our own
 * phone that fails to decrypt is acknowledged and not retried, so app-state key shares can be lost.
 * Names (rc14, after fixFileName ":" -> "-"): `session-<user>[_<domain>].<device>.json`,
 * `identity-key-<same>.json`, `device-list-<user>.json`, `tctoken-<user>@lid.json`,
 * `sender-key-<group>--<user>[_<domain>]--<device>.json`.
 */

/** The user part of a session / identity-key / device-list / tctoken / sender-key file, or undefined. */
export function fileUser(name: string): string | undefined {
  if (!name.endsWith(".json")) return undefined;
  const base = name.slice(0, -".json".length);
  let id: string | undefined;
  if (base.startsWith("session-")) id = base.slice("session-".length);
  else if (base.startsWith("identity-key-")) id = base.slice("identity-key-".length);
  else if (base.startsWith("device-list-")) id = base.slice("device-list-".length);
  else if (base.startsWith("tctoken-")) id = base.slice("tctoken-".length);
  else if (base.startsWith("sender-key-") && !base.startsWith("sender-key-memory-")) {
    const parts = base.slice("sender-key-".length).split("--");
    id = parts.length >= 3 ? parts[parts.length - 2] : undefined;
  }
  if (id === undefined) return undefined;
  const user = id.split(/[._@-]/)[0];
  return user ? user : undefined;
}

/** User parts of a JID such as "5511987654321:12@s.whatsapp.net" or "12345:3@lid". */
export function jidUser(jid: unknown): string | undefined {
  if (typeof jid !== "string") return undefined;
  const user = jid.split("@")[0]?.split(":")[0]?.split("_")[0];
  return user ? user : undefined;
}

/** Our own users from a parsed creds.json (`me.id`, `me.lid`); null when creds has no `me`. */
export function ownUsersOf(creds: unknown): string[] | null {
  if (!creds || typeof creds !== "object") return null;
  const me = (creds as { me?: { id?: unknown; lid?: unknown } }).me;
  if (!me || typeof me !== "object") return null;
  const users = [jidUser(me.id), jidUser(me.lid)].filter((u): u is string => u !== undefined);
  return users.length > 0 ? users : null;
}
