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
  // Indices into `name`, not slices of it: this runs for every session and sender key at every count.
  const end = name.length - ".json".length;
  let start: number;
  if (name.startsWith("session-")) start = "session-".length;
  else if (name.startsWith("identity-key-")) start = "identity-key-".length;
  else if (name.startsWith("device-list-")) start = "device-list-".length;
  else if (name.startsWith("tctoken-")) start = "tctoken-".length;
  else if (name.startsWith("sender-key-") && !name.startsWith("sender-key-memory-")) {
    const parts = name.slice("sender-key-".length, end).split("--");
    const id = parts.length >= 3 ? (parts[parts.length - 2] as string) : undefined;
    return id === undefined ? undefined : userOf(id, 0, id.length);
  } else return undefined;
  return userOf(name, start, end);
}

/** The user part of the id `text[start, end)`: up to its first ".", "_", "@" or "-"; undefined when empty. */
function userOf(text: string, start: number, end: number): string | undefined {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 95 || c === 64 || c === 45) break;
    i++;
  }
  return i > start ? text.slice(start, i) : undefined;
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
