/**
 * Two local identities with real Baileys auth folders and Baileys' own signal repository (the
 * installed libsignal underneath): `alice` sends, `bob` receives through Baileys'
 * `decryptMessageNode` with the logger under test, exactly as the socket's message handler does.
 * Failures are made for real: a tampered session record, a deleted pre-key, a deleted session.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  type AuthenticationCreds,
  type AuthenticationState,
  addTransactionCapability,
  type BinaryNode,
  DEFAULT_CONNECTION_CONFIG,
  decryptMessageNode,
  encodeWAMessage,
  generateSignalPubKey,
  getNextPreKeys,
  type SignalRepositoryWithLIDStore,
  useMultiFileAuthState,
} from "baileys";
import pino from "pino";

const silent = pino({ level: "silent" });

/** One side: its folder, creds and repository. */
export interface Party {
  jid: string;
  dir: string;
  creds: AuthenticationCreds;
  repository: SignalRepositoryWithLIDStore;
  /** Pre-keys generated for it, id → public key. */
  preKeys: Map<number, Uint8Array>;
}

/** An auth state opener: Baileys' own folder store by default, any other store under test. */
export type OpenAuth = (
  dir: string,
) => Promise<{ state: AuthenticationState; saveCreds: () => Promise<void> }>;

/** Creates an identity in `dir` with `preKeys` pre-keys, its keys in the store `open` gives. */
export async function createParty(
  dir: string,
  jid: string,
  preKeys = 5,
  open: OpenAuth = useMultiFileAuthState,
): Promise<Party> {
  const { state, saveCreds } = await open(dir);
  state.creds.me = { id: jid, name: path.basename(dir) };
  const { update, preKeys: generated } = await getNextPreKeys(state, preKeys);
  Object.assign(state.creds, update);
  await saveCreds();
  const keys = addTransactionCapability(state.keys, silent, { maxCommitRetries: 1, delayBetweenTriesMs: 0 });
  const repository = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: state.creds, keys }, silent);
  const ids = new Map<number, Uint8Array>();
  for (const [id, pair] of Object.entries(generated)) ids.set(Number(id), pair.public);
  return { jid, dir, creds: state.creds, repository, preKeys: ids };
}

/** `to`'s prekey bundle with pre-key `preKeyId`, as the server hands it out. */
export function bundleOf(to: Party, preKeyId: number) {
  const pub = to.preKeys.get(preKeyId);
  if (!pub) throw new Error(`no pre-key ${preKeyId}`);
  return {
    registrationId: to.creds.registrationId,
    identityKey: generateSignalPubKey(to.creds.signedIdentityKey.public),
    signedPreKey: {
      keyId: to.creds.signedPreKey.keyId,
      publicKey: generateSignalPubKey(to.creds.signedPreKey.keyPair.public),
      signature: to.creds.signedPreKey.signature,
    },
    preKey: { keyId: preKeyId, publicKey: generateSignalPubKey(pub) },
  };
}

/** `from` starts a session with `to` from its bundle (what assertSessions does). */
export async function startSession(from: Party, to: Party, preKeyId: number): Promise<void> {
  await from.repository.injectE2ESession({ jid: to.jid, session: bundleOf(to, preKeyId) });
}

/** Encrypts a text message from `from` to `to`: the `<message>` stanza the server would deliver. */
export async function encryptTo(from: Party, to: Party, text: string, id: string): Promise<BinaryNode> {
  const { type, ciphertext } = await from.repository.encryptMessage({
    jid: to.jid,
    data: encodeWAMessage({ conversation: text }),
  });
  return {
    tag: "message",
    attrs: { from: from.jid, id, t: "1700000000", type: "text" },
    content: [{ tag: "enc", attrs: { v: "2", type }, content: ciphertext }],
  };
}

/** What Baileys made of a stanza on `to`'s side: the text, or the CIPHERTEXT stub's reason. */
export async function receive(
  to: Party,
  stanza: BinaryNode,
  logger: Parameters<typeof decryptMessageNode>[4],
): Promise<{ text?: string; stub?: string }> {
  const { fullMessage, decrypt } = decryptMessageNode(stanza, to.jid, "", to.repository, logger);
  await decrypt();
  const text = fullMessage.message?.conversation;
  if (typeof text === "string") return { text };
  return { stub: String(fullMessage.messageStubParameters?.[0]) };
}

/** The session file names in a folder. */
export async function sessionFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith("session-")).sort();
}

/**
 * Flips a byte of the root key and of every chain key in every session file of `dir` (a corrupted
 * record): the next message, on the current chain or after a ratchet step, fails its MAC check.
 */
export async function tamperSessions(dir: string): Promise<number> {
  let tampered = 0;
  for (const name of await sessionFiles(dir)) {
    const file = path.join(dir, name);
    const record = JSON.parse(await readFile(file, "utf8")) as {
      _sessions: Record<
        string,
        { currentRatchet: { rootKey: string }; _chains: Record<string, { chainKey: { key?: string } }> }
      >;
    };
    const flip = (b64: string) => {
      const key = Buffer.from(b64, "base64");
      key[0] = (key[0] ?? 0) ^ 0xff;
      return key.toString("base64");
    };
    for (const session of Object.values(record._sessions)) {
      session.currentRatchet.rootKey = flip(session.currentRatchet.rootKey);
      for (const chain of Object.values(session._chains)) {
        if (!chain.chainKey.key) continue;
        chain.chainKey.key = flip(chain.chainKey.key);
        tampered++;
      }
    }
    await writeFile(file, JSON.stringify(record));
  }
  return tampered;
}

/** Deletes `to`'s pre-key file (what an over-eager cleanup does): the next bundle using it fails. */
export async function deletePreKey(to: Party, id: number): Promise<void> {
  await rm(path.join(to.dir, `pre-key-${id}.json`));
}

/** Deletes every session file of a folder. */
export async function deleteSessions(dir: string): Promise<string[]> {
  const names = await sessionFiles(dir);
  for (const n of names) await rm(path.join(dir, n));
  return names;
}
