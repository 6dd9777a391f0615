/**
 * Encryption of auth rows: AES-256-GCM per row under a key derived from WARDEN_AUTH_KEY (or
 * WARDEN_BACKUP_KEY). The passphrase is stretched once per process (scrypt, ~100 ms, fixed salt:
 * the per-database salt below keeps keys apart), each database then gets its own AES key by HKDF
 * with a random salt kept in the database, so a random 96-bit IV per row stays far from GCM's limits.
 * A row is `iv (12) | ciphertext | tag (16)`, authenticated with its table and key as additional
 * data (a row copied under another key fails). Each row also stores the key id (8 bytes of an HMAC
 * of the stretched key): a row sealed under another passphrase is named as such ("wrong key"),
 * not mistaken for tampering, and never for a missing row.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { ErrorCodes, WardenError } from "../errors.js";
import { deriveKey } from "../sealed-container.js";

const MASTER_SALT = Buffer.from("wa-warden auth-store v1", "utf8");
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The stretched passphrase: derives one AES key per database. */
export class AuthKey {
  /** Hex id stored with each row (not secret: it names the passphrase, it does not reveal it). */
  readonly id: string;
  private readonly master: Buffer;

  private constructor(master: Buffer) {
    this.master = master;
    this.id = createHmac("sha256", master).update("wa-warden auth key id").digest("hex").slice(0, 16);
  }

  /** Stretches `passphrase` (scrypt, ~100 ms): do it once per process and pass the result down. */
  static async derive(passphrase: string): Promise<AuthKey> {
    if (passphrase.length === 0)
      throw new WardenError(ErrorCodes.AUTH_STORE_KEY, "The auth key (WARDEN_AUTH_KEY) is empty", {});
    return new AuthKey(await deriveKey(passphrase, MASTER_SALT));
  }

  /** The cipher of one database, from its salt. */
  forDatabase(salt: Buffer): RowCipher {
    const key = Buffer.from(hkdfSync("sha256", this.master, salt, "wa-warden auth rows", 32));
    return new RowCipher(key, this.id);
  }
}

/** Seals and opens the rows of one database. */
export class RowCipher {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(key: Buffer, keyId: string) {
    this.key = key;
    this.keyId = keyId;
  }

  /** `iv | ciphertext | tag` of `plain`, bound to `aad` (the row's table and key). */
  seal(aad: string, plain: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  /** The plaintext of a row; throws a coded error naming the row when its key id differs or it fails authentication. */
  open(aad: string, sealed: unknown, keyId: string, where: string): Buffer {
    if (keyId !== this.keyId) {
      throw new WardenError(
        ErrorCodes.AUTH_STORE_KEY,
        `${where}: row ${aad} is encrypted under key ${keyId}, not under this auth key (${this.keyId}): set the WARDEN_AUTH_KEY it was written with`,
        { where, row: aad, keyId, expected: this.keyId },
      );
    }
    if (!Buffer.isBuffer(sealed)) throw tampered(aad, where, `its value is ${typeof sealed}, not a blob`);
    if (sealed.length < IV_BYTES + TAG_BYTES) throw tampered(aad, where, "too short");
    const decipher = createDecipheriv("aes-256-gcm", this.key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw tampered(aad, where, (err as Error).message, err);
    }
  }
}

function tampered(row: string, where: string, why: string, cause?: unknown): WardenError {
  return new WardenError(
    ErrorCodes.AUTH_STORE_TAMPERED,
    `${where}: row ${row} fails authentication (${why}): it was changed outside wa-warden or is damaged; nothing was read from it`,
    { where, row },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The cipher of an encrypted store, or the coded refusal naming `location` when no passphrase was
 * given (a store is never read as if it were empty).
 */
export function requireCipher(
  cipher: RowCipher | undefined,
  location: string,
  detail: Record<string, unknown>,
): RowCipher {
  if (!cipher) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_KEY,
      `${location} is encrypted: set WARDEN_AUTH_KEY (or WARDEN_BACKUP_KEY) to read or write it`,
      detail,
    );
  }
  return cipher;
}
