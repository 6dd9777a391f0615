/**
 * Peers are kept, logged and alerted only as a short hash of their jid (never the number itself).
 * 10 hex chars of an HMAC-SHA256 over user@server, the device dropped (every device of a contact is
 * one peer), keyed with this installation's salt (store.signals.peerSalt(), random, in the
 * database): phone numbers are few enough to hash them all, so an unsalted hash could be reversed.
 */
import { createHmac } from "node:crypto";

/** A short, stable hash of a peer: the user part and server, device dropped (`5511...:3@s...`). */
export function hashPeer(jid: string, salt: string): string {
  const at = jid.indexOf("@");
  const user = (at < 0 ? jid : jid.slice(0, at)).split(":")[0] ?? "";
  const server = at < 0 ? "" : jid.slice(at);
  return createHmac("sha256", salt).update(`${user}${server}`).digest("hex").slice(0, 10);
}
