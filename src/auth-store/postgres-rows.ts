/**
 * A company's auth state in the shared PostgreSQL (schema `warden_auth`, postgres-db.ts): the
 * sqlite store's rows (sqlite-rows.ts) with a `company` column, since every company of every
 * process shares the tables. `companies` holds each company's HKDF salt and, in plain, what its
 * creds row says, so the scanner counts without the key. One transaction per write (Baileys'
 * keys.set): the server commits it whole or not at all, so a worker killed mid-write leaves every
 * key either as it was or as written. A company with no `companies` row is refused (fail closed:
 * its warden-auth.json says its keys are here, so "nothing here" is damage, never a fresh start).
 */
import { randomBytes } from "node:crypto";
import { ErrorCodes, WardenError } from "../errors.js";
import { type CredsFacts, credsFacts } from "../fleet/scan-folder.js";
import type { AuthPut, AuthRow, AuthRowInfo, AuthRows } from "./auth-rows.js";
import { deletableRows, nameOfKey, type RowKey, rowOfName, storableRow } from "./key-names.js";
import { PG_SCHEMA, type PgQueryable, PostgresDb } from "./postgres-db.js";
import { type AuthKey, type RowCipher, requireCipher } from "./row-cipher.js";

const S = PG_SCHEMA;

/** How to open a company's rows. */
export interface PostgresRowsOptions {
  company: string;
  /** Needed to read or write values; listing works without it. */
  key?: AuthKey;
  /** Create the company's record when missing (a migration, a new pairing). */
  create?: boolean;
}

interface InfoRecord {
  name: string;
  size: number;
  created_at: string;
  updated_at: string;
  last_read_at: string;
}

/** Every row's name and times, without values (`$1`: the company). */
export const PG_LIST_SQL = `
SELECT 'creds.json' AS name, size, created_at, updated_at, last_read_at FROM ${S}.creds WHERE company = $1 AND key = 'creds'
UNION ALL
SELECT type || '-' || id || '.json', size, created_at, updated_at, last_read_at FROM ${S}.signal_keys WHERE company = $1`;

/** Opens a company's rows on the shared pool of `url`; close() releases its handle. */
export async function openPostgresRows(url: string, options: PostgresRowsOptions): Promise<PostgresRows> {
  const db = await PostgresDb.acquire(url);
  try {
    return await openOn(db, options);
  } catch (err) {
    await db.release();
    throw err;
  }
}

async function openOn(db: PostgresDb, options: PostgresRowsOptions): Promise<PostgresRows> {
  const { company } = options;
  if (options.create) {
    await db.query(
      `recording ${company}`,
      `INSERT INTO ${S}.companies (company, salt, schema_version, created_at) VALUES ($1, $2, 1, $3) ON CONFLICT (company) DO NOTHING`,
      [company, randomBytes(16).toString("hex"), Date.now()],
    );
  }
  const found = await db.query<{ salt: string }>(
    `opening ${company}`,
    `SELECT salt FROM ${S}.companies WHERE company = $1`,
    [company],
  );
  const salt = found.rows[0]?.salt;
  if (salt === undefined) {
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `The postgres auth store ${db.where} holds no rows of ${company}: its warden-auth.json names the postgres store; restore them or migrate the company (never started fresh: that would be a new identity)`,
      { company, store: "postgres", where: db.where },
    );
  }
  return new PostgresRows(db, company, options.key?.forDatabase(Buffer.from(salt, "hex")));
}

/** True when `company` has a record in the store. */
export async function postgresCompanyExists(db: PostgresDb, company: string): Promise<boolean> {
  const found = await db.query(`looking for ${company}`, `SELECT 1 FROM ${S}.companies WHERE company = $1`, [
    company,
  ]);
  return (found.rowCount ?? 0) > 0;
}

/** Renames a company's record and rows to `aside` in one statement (the keys cascade). */
export async function movePostgresCompany(db: PostgresDb, company: string, aside: string): Promise<void> {
  const moved = await db.query(
    `moving ${company} aside to ${aside}`,
    `UPDATE ${S}.companies SET company = $2 WHERE company = $1`,
    [company, aside],
  );
  if (moved.rowCount === 0)
    throw new WardenError(
      ErrorCodes.AUTH_STORE_UNAVAILABLE,
      `${db.where} holds no rows of ${company} to move`,
      {
        company,
      },
    );
}

/** Deletes a company's record and every row of it (a rolled-back migration). */
export async function removePostgresCompany(db: PostgresDb, company: string): Promise<void> {
  await db.query(`removing ${company}`, `DELETE FROM ${S}.companies WHERE company = $1`, [company]);
}

/** One company's rows in PostgreSQL. */
export class PostgresRows implements AuthRows {
  readonly kind = "postgres" as const;
  readonly location: string;
  private readonly db: PostgresDb;
  private readonly company: string;
  private readonly cipher: RowCipher | undefined;
  private closed = false;

  constructor(db: PostgresDb, company: string, cipher: RowCipher | undefined) {
    this.db = db;
    this.company = company;
    this.cipher = cipher;
    this.location = `${db.where} (${S}, company ${company})`;
  }

  private requireCipher(): RowCipher {
    return requireCipher(this.cipher, this.location, { where: this.location });
  }

  async list(): Promise<AuthRowInfo[]> {
    const found = await this.db.query<InfoRecord>("listing rows", PG_LIST_SQL, [this.company]);
    return found.rows.map(toInfo);
  }

  async read(names: readonly string[], touchAt?: number): Promise<Map<string, Buffer>> {
    const cipher = this.requireCipher();
    const keys = names.map(rowOfName).filter((k): k is RowKey => k !== null);
    const signal = keys.filter(
      (k): k is Extract<RowKey, { table: "signal_keys" }> => k.table === "signal_keys",
    );
    const out = new Map<string, Buffer>();
    if (keys.some((k) => k.table === "creds")) {
      const creds = await this.db.query<{ value: Buffer; key_id: string }>(
        "reading creds",
        `SELECT value, key_id FROM ${S}.creds WHERE company = $1 AND key = 'creds'`,
        [this.company],
      );
      const row = creds.rows[0];
      if (row)
        out.set(
          "creds.json",
          cipher.open(aadOf({ table: "creds", key: "creds" }), row.value, row.key_id, this.location),
        );
    }
    if (signal.length > 0) {
      const found = await this.db.query<{ type: string; id: string; value: Buffer; key_id: string }>(
        "reading rows",
        `SELECT k.type, k.id, k.value, k.key_id FROM ${S}.signal_keys k
         JOIN unnest($2::text[], $3::text[]) AS w(type, id) ON k.type = w.type AND k.id = w.id
         WHERE k.company = $1`,
        [this.company, signal.map((k) => k.type), signal.map((k) => k.id)],
      );
      for (const row of found.rows) {
        const name = nameOfKey(row.type, row.id);
        const key = rowOfName(name) as RowKey;
        out.set(name, cipher.open(aadOf(key), row.value, row.key_id, this.location));
      }
      // Reads move last_read_at only when a minute older, so reads cost no write each.
      if (touchAt !== undefined && found.rows.length > 0) {
        await this.db.query(
          "recording reads",
          `UPDATE ${S}.signal_keys k SET last_read_at = $4 FROM unnest($2::text[], $3::text[]) AS w(type, id)
           WHERE k.company = $1 AND k.type = w.type AND k.id = w.id AND k.last_read_at < $5`,
          [
            this.company,
            found.rows.map((r) => r.type),
            found.rows.map((r) => r.id),
            touchAt,
            touchAt - 60_000,
          ],
        );
      }
    }
    return out;
  }

  async readAll(): Promise<AuthRow[]> {
    const cipher = this.requireCipher();
    const found = await this.db.query<InfoRecord & { value: Buffer; key_id: string }>(
      "reading rows",
      `SELECT 'creds.json' AS name, value, key_id, size, created_at, updated_at, last_read_at FROM ${S}.creds WHERE company = $1 AND key = 'creds'
       UNION ALL
       SELECT type || '-' || id || '.json', value, key_id, size, created_at, updated_at, last_read_at FROM ${S}.signal_keys WHERE company = $1`,
      [this.company],
    );
    return found.rows.map((r) => ({
      ...toInfo(r),
      data: cipher.open(aadOf(rowOfName(r.name) as RowKey), r.value, r.key_id, this.location),
    }));
  }

  async write(puts: readonly AuthPut[], deletes: readonly string[], now: number): Promise<void> {
    await this.apply(puts, deletes, now, false);
  }

  async replaceAll(rows: readonly AuthPut[], now: number): Promise<void> {
    const keep = new Set(rows.map((r) => r.name));
    const existing = (await this.list()).map((r) => r.name).filter((n) => n !== "creds.json" && !keep.has(n));
    await this.apply(rows, existing, now, !keep.has("creds.json"));
  }

  private async apply(
    puts: readonly AuthPut[],
    deletes: readonly string[],
    now: number,
    dropCreds: boolean,
  ): Promise<void> {
    const cipher = this.requireCipher();
    // The last put of a name wins, as it would in a sequence of single writes.
    const byName = new Map<string, AuthPut>();
    for (const put of puts) {
      storableRow(put.name, this.location, { where: this.location });
      byName.set(put.name, put);
    }
    const removed = deletableRows(deletes, this.location, { where: this.location });
    const signal: { type: string; id: string; value: Buffer; size: number; at: number }[] = [];
    let creds: { value: Buffer; size: number; at: number; facts: string } | undefined;
    for (const put of byName.values()) {
      const key = rowOfName(put.name) as RowKey;
      const value = cipher.seal(aadOf(key), put.data);
      const at = put.at ?? now;
      if (key.table === "creds")
        creds = { value, size: put.data.length, at, facts: JSON.stringify(credsFacts(put.data)) };
      else signal.push({ type: key.type, id: key.id, value, size: put.data.length, at });
    }
    await this.db.transaction("writing rows", async (client) => {
      await this.assertStillHere(client);
      if (creds) await this.putCreds(client, creds, cipher.keyId);
      if (signal.length > 0) await this.putKeys(client, signal, cipher.keyId);
      const gone = removed.filter((k) => k.table === "signal_keys") as Extract<
        RowKey,
        { table: "signal_keys" }
      >[];
      if (gone.length > 0) {
        await client.query(
          `DELETE FROM ${S}.signal_keys k USING unnest($2::text[], $3::text[]) AS w(type, id)
           WHERE k.company = $1 AND k.type = w.type AND k.id = w.id`,
          [this.company, gone.map((k) => k.type), gone.map((k) => k.id)],
        );
      }
      if (dropCreds) {
        await client.query(`DELETE FROM ${S}.creds WHERE company = $1`, [this.company]);
        await client.query(`UPDATE ${S}.companies SET creds_facts = NULL WHERE company = $1`, [this.company]);
      }
    });
  }

  /** Locks the company's record for the transaction; gone (moved aside meanwhile) is refused. */
  private async assertStillHere(client: PgQueryable): Promise<void> {
    const found = await client.query(`SELECT 1 FROM ${S}.companies WHERE company = $1 FOR SHARE`, [
      this.company,
    ]);
    if (found.rowCount === 0) {
      throw new WardenError(
        ErrorCodes.AUTH_STORE_UNAVAILABLE,
        `The rows of ${this.company} were moved or removed from ${this.db.where} while open: nothing more is written`,
        { company: this.company, store: "postgres" },
      );
    }
  }

  private async putCreds(
    client: PgQueryable,
    creds: { value: Buffer; size: number; at: number; facts: string },
    keyId: string,
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${S}.creds (company, key, value, key_id, size, created_at, updated_at, last_read_at)
       VALUES ($1, 'creds', $2, $3, $4, $5, $5, $5)
       ON CONFLICT (company, key) DO UPDATE SET value = excluded.value, key_id = excluded.key_id,
         size = excluded.size, updated_at = excluded.updated_at, last_read_at = excluded.last_read_at`,
      [this.company, creds.value, keyId, creds.size, creds.at],
    );
    await client.query(`UPDATE ${S}.companies SET creds_facts = $2 WHERE company = $1`, [
      this.company,
      creds.facts,
    ]);
  }

  /** Every signal key of the write in one statement (one round trip however large the batch). */
  private async putKeys(
    client: PgQueryable,
    rows: readonly { type: string; id: string; value: Buffer; size: number; at: number }[],
    keyId: string,
  ): Promise<void> {
    await client.query(
      `INSERT INTO ${S}.signal_keys (company, type, id, value, key_id, size, created_at, updated_at, last_read_at)
       SELECT $1, w.type, w.id, w.value, $2, w.size, w.at, w.at, w.at
       FROM unnest($3::text[], $4::text[], $5::bytea[], $6::int[], $7::bigint[]) AS w(type, id, value, size, at)
       ON CONFLICT (company, type, id) DO UPDATE SET value = excluded.value, key_id = excluded.key_id,
         size = excluded.size, updated_at = excluded.updated_at, last_read_at = excluded.last_read_at`,
      [
        this.company,
        keyId,
        rows.map((r) => r.type),
        rows.map((r) => r.id),
        rows.map((r) => r.value),
        rows.map((r) => r.size),
        rows.map((r) => r.at),
      ],
    );
  }

  async credsFacts(): Promise<CredsFacts & { present: boolean }> {
    const found = await this.db.query<{ present: boolean; facts: string | null }>(
      "reading creds",
      `SELECT EXISTS (SELECT 1 FROM ${S}.creds WHERE company = $1 AND key = 'creds') AS present,
              (SELECT creds_facts FROM ${S}.companies WHERE company = $1) AS facts`,
      [this.company],
    );
    return factsOf(found.rows[0]?.present === true, found.rows[0]?.facts ?? null);
  }

  /** A copy of every row under the company name `<company>@<basename of asideBase>` (kept before a restore); returns where. */
  async keepCopy(asideBase: string): Promise<string> {
    const aside = postgresAsideName(this.company, asideBase);
    await this.db.transaction(`copying ${this.company} to ${aside}`, async (client) => {
      const cols = "value, key_id, size, created_at, updated_at, last_read_at";
      await client.query(
        `INSERT INTO ${S}.companies (company, salt, creds_facts, schema_version, created_at)
         SELECT $2, salt, creds_facts, schema_version, created_at FROM ${S}.companies WHERE company = $1`,
        [this.company, aside],
      );
      await client.query(
        `INSERT INTO ${S}.creds (company, key, ${cols}) SELECT $2, key, ${cols} FROM ${S}.creds WHERE company = $1`,
        [this.company, aside],
      );
      await client.query(
        `INSERT INTO ${S}.signal_keys (company, type, id, ${cols}) SELECT $2, type, id, ${cols} FROM ${S}.signal_keys WHERE company = $1`,
        [this.company, aside],
      );
    });
    return `${this.db.where} (${S}, company ${aside})`;
  }

  /** Releases this rows' handle on the shared pool; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.release();
  }
}

/** The company name a set-aside copy gets (`@` is in no company id, so it never meets a company). */
export function postgresAsideName(company: string, asideBase: string): string {
  return `${company}@${asideBase.split(/[\\/]/).pop() ?? asideBase}`;
}

/** The creds facts from the plain column beside the creds row. */
export function factsOf(present: boolean, facts: string | null): CredsFacts & { present: boolean } {
  if (!present) return { present, state: "missing", ownUsers: null, newestPreKeyId: null };
  if (facts === null)
    return { present, state: "corrupt", error: "no facts recorded", ownUsers: null, newestPreKeyId: null };
  return { present, ...(JSON.parse(facts) as CredsFacts) };
}

/** A listed row; BIGINT arrives as a string. */
export function toInfo(r: InfoRecord): AuthRowInfo {
  return {
    name: r.name,
    size: Number(r.size),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastReadAt: Number(r.last_read_at),
  };
}

/** The same additional data as the sqlite store's seal (sqlite-rows.ts), so a row can move between them. */
function aadOf(key: RowKey): string {
  return key.table === "creds" ? "creds/creds" : `signal_keys/${nameOfKey(key.type, key.id)}`;
}
