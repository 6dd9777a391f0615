/**
 * Creds snapshots: the last versions of creds.json and of each app-state key file, kept in SQLite
 * so a folder that lost its creds.json can get its identity back without a QR scan. The bytes are
 * stored as given (the caller encrypts them when WARDEN_BACKUP_KEY is set).
 */
import type { Db } from "./db.js";

/** One stored version of one file. */
export interface CredsSnapshotRow {
  id: number;
  company: string;
  file: string;
  sha256: string;
  data: Buffer;
  encrypted: boolean;
  at: number;
}

/** Typed snapshot queries. */
export function createCredsSnapshotQueries(db: Db) {
  type Raw = Omit<CredsSnapshotRow, "encrypted"> & { encrypted: number };
  const latest = db.prepare<[string, string], Raw>(
    "SELECT * FROM creds_snapshots WHERE company = ? AND file = ? ORDER BY id DESC LIMIT 1",
  );
  const insert = db.prepare(
    "INSERT INTO creds_snapshots (company, file, sha256, data, encrypted, at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const prune = db.prepare(`
    DELETE FROM creds_snapshots WHERE company = ? AND file = ? AND id NOT IN (
      SELECT id FROM creds_snapshots WHERE company = ? AND file = ? ORDER BY id DESC LIMIT ?)`);
  const versions = db.prepare<[string, string], Raw>(
    "SELECT * FROM creds_snapshots WHERE company = ? AND file = ? ORDER BY id DESC",
  );
  const files = db.prepare<[string], { file: string }>(
    "SELECT DISTINCT file FROM creds_snapshots WHERE company = ? ORDER BY file",
  );
  const retire = db.prepare("DELETE FROM creds_snapshots WHERE company = ?");
  const plain = db.prepare<[], { n: number }>(
    "SELECT COUNT(*) AS n FROM creds_snapshots WHERE encrypted = 0",
  );
  const toRow = (r: Raw): CredsSnapshotRow => ({ ...r, encrypted: r.encrypted === 1 });
  return {
    /**
     * Stores a version unless it equals the latest one (same sha256), then keeps the newest `keep`.
     * Returns true when a row was added.
     */
    put(
      snapshot: { company: string; file: string; sha256: string; data: Buffer; encrypted: boolean },
      keep: number,
      now: number,
    ): boolean {
      return db
        .transaction(() => {
          const last = latest.get(snapshot.company, snapshot.file);
          if (last?.sha256 === snapshot.sha256) return false;
          insert.run(
            snapshot.company,
            snapshot.file,
            snapshot.sha256,
            snapshot.data,
            snapshot.encrypted ? 1 : 0,
            now,
          );
          prune.run(snapshot.company, snapshot.file, snapshot.company, snapshot.file, Math.max(1, keep));
          return true;
        })
        .immediate();
    },
    /** The newest version of one file, or undefined. */
    latest(company: string, file: string): CredsSnapshotRow | undefined {
      const r = latest.get(company, file);
      return r ? toRow(r) : undefined;
    },
    /** Every kept version of one file, newest first. */
    versions(company: string, file: string): CredsSnapshotRow[] {
      return versions.all(company, file).map(toRow);
    },
    /**
     * Forgets every version of a company (a new pairing replaces its identity: the old creds must
     * never be restored into the new folder; the verified pre-pair backup keeps them). Returns rows removed.
     */
    retire(company: string): number {
      return retire.run(company).changes;
    },
    /** How many stored snapshots are plain (not sealed with WARDEN_BACKUP_KEY). */
    plainCount(): number {
      return plain.get()?.n ?? 0;
    },
    /** The file names that have snapshots for a company. */
    files(company: string): string[] {
      return files.all(company).map((r) => r.file);
    },
  };
}
