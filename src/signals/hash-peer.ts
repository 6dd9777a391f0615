/**
 * Peers are kept, logged and alerted only as a short hash of their jid (issue 14: never the
 * number itself). 10 hex chars of sha256 over user@server, the device dropped, so every device of
 * a contact is one peer.
 */
import { createHash } from "node:crypto";

/** A short, stable hash of a peer: the user part and server, device dropped (`5511...:3@s...`). */
export function hashPeer(jid: string): string {
  const at = jid.indexOf("@");
  const user = (at < 0 ? jid : jid.slice(0, at)).split(":")[0] ?? "";
  const server = at < 0 ? "" : jid.slice(at);
  return createHash("sha256").update(`${user}${server}`).digest("hex").slice(0, 10);
}
