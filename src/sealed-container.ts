/**
 * The one sealed container of wa-warden, used by backups (magic "WWBK1", streamed) and creds
 * snapshots (magic "WWSN1", in memory):
 *   magic (5 bytes) | salt (16) | iv (12) | AES-256-GCM ciphertext | tag (16)
 * The key is scrypt(passphrase, salt, 32, N=2^15 r=8 p=1); the 33 header bytes are the GCM
 * additional data, so a flipped byte anywhere (magic, salt, iv, ciphertext, tag) fails
 * authentication. The tag comes last so a writer streams in one pass; a streaming reader reads it
 * first (positioned read) and hands it to the decipher before the ciphertext.
 * The parameters are fixed by the magic (the header carries none): changing them needs a new magic.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  type DecipherGCM,
  randomBytes,
  scrypt as scryptCb,
} from "node:crypto";
import { Transform } from "node:stream";

/** Magic of a sealed backup archive. */
export const BACKUP_MAGIC = Buffer.from("WWBK1", "ascii");
/** Magic of a sealed creds snapshot. */
export const SNAPSHOT_MAGIC = Buffer.from("WWSN1", "ascii");
/** Bytes of the salt, the IV and the tag. */
export const SALT_LENGTH = 16;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
// ~32 MiB and ~100 ms per derivation: costly to brute-force, cheap for one backup.
const SCRYPT_OPTIONS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** Length of the header (magic, salt, iv) for `magic`. */
export function headerLength(magic: Buffer): number {
  return magic.length + SALT_LENGTH + IV_LENGTH;
}

/** The 32-byte AES key of `passphrase` with `salt` (scrypt, ~100 ms). */
export function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(passphrase, salt, 32, SCRYPT_OPTIONS, (err, derived) => (err ? reject(err) : resolve(derived)));
  });
}

/** Hex sha256 of `data`. */
export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A fresh random salt. */
export function newSalt(): Buffer {
  return randomBytes(SALT_LENGTH);
}

/** The salt and iv of a header, or null when `head` does not start with `magic` or is too short. */
export function parseHeader(magic: Buffer, head: Buffer): { salt: Buffer; iv: Buffer } | null {
  if (head.length < headerLength(magic) || !head.subarray(0, magic.length).equals(magic)) return null;
  return {
    salt: Buffer.from(head.subarray(magic.length, magic.length + SALT_LENGTH)),
    iv: Buffer.from(head.subarray(magic.length + SALT_LENGTH, headerLength(magic))),
  };
}

/** Seals `plain` in memory with an already derived key (the caller derived it from `salt`). */
export function sealBuffer(magic: Buffer, derivedKey: Buffer, salt: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(IV_LENGTH);
  const header = Buffer.concat([magic, salt, iv]);
  const cipher = createCipheriv("aes-256-gcm", derivedKey, iv);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/**
 * Opens a blob sealed by sealBuffer with the key derived from its salt; throws when authentication
 * fails (wrong key or altered bytes). The caller checked the header with parseHeader.
 */
export function openBuffer(magic: Buffer, derivedKey: Buffer, blob: Buffer): Buffer {
  const length = headerLength(magic);
  const decipher = openingDecipher(
    derivedKey,
    blob.subarray(0, length),
    blob.subarray(magic.length + SALT_LENGTH, length),
    blob.subarray(blob.length - TAG_LENGTH),
  );
  return Buffer.concat([decipher.update(blob.subarray(length, blob.length - TAG_LENGTH)), decipher.final()]);
}

/** A decipher for a container whose header, iv and tag were read; final() authenticates. */
export function openingDecipher(derivedKey: Buffer, header: Buffer, iv: Buffer, tag: Buffer): DecipherGCM {
  const decipher = createDecipheriv("aes-256-gcm", derivedKey, iv);
  decipher.setAAD(header);
  decipher.setAuthTag(tag);
  return decipher;
}

/** A transform that writes the header, the GCM ciphertext of its input, and the tag after it. */
export async function sealStream(magic: Buffer, passphrase: string): Promise<Transform> {
  const salt = newSalt();
  const iv = randomBytes(IV_LENGTH);
  const header = Buffer.concat([magic, salt, iv]);
  const cipher = createCipheriv("aes-256-gcm", await deriveKey(passphrase, salt), iv);
  cipher.setAAD(header);
  let headerSent = false;
  const sendHeader = (stream: Transform) => {
    if (!headerSent) stream.push(header);
    headerSent = true;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sendHeader(this);
      callback(null, cipher.update(chunk));
    },
    flush(callback) {
      sendHeader(this);
      this.push(cipher.final());
      callback(null, cipher.getAuthTag());
    },
  });
}
