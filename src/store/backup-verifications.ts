/**
 * What each backup's verification found (a full read of the archive against its manifest), so the
 * health check's "verified" is a recorded result, not a guess from a file name.
 */
import type { Db } from "./db.js";

/** One recorded verification. */
export interface BackupVerification {
  company: string;
  /** The backup's file name. */
  name: string;
  verifiedAt: number;
  ok: boolean;
  problems: string[];
}

/** Typed queries. */
export function createBackupVerificationQueries(db: Db) {
  const put = db.prepare(`
    INSERT INTO backup_verifications (company, name, verified_at, ok, problems) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company, name) DO UPDATE SET verified_at = excluded.verified_at, ok = excluded.ok, problems = excluded.problems`);
  const ofCompany = db.prepare<
    [string],
    { company: string; name: string; verified_at: number; ok: number; problems: string }
  >("SELECT * FROM backup_verifications WHERE company = ?");
  return {
    /** Records a verification result (the latest one per backup counts). */
    record(company: string, name: string, ok: boolean, problems: readonly string[], at: number): void {
      put.run(company, name, at, ok ? 1 : 0, JSON.stringify(problems));
    },
    /** The recorded results of a company's backups, by file name. */
    of(company: string): Map<string, BackupVerification> {
      return new Map(
        ofCompany.all(company).map((r) => [
          r.name,
          {
            company: r.company,
            name: r.name,
            verifiedAt: r.verified_at,
            ok: r.ok === 1,
            problems: JSON.parse(r.problems) as string[],
          },
        ]),
      );
    },
  };
}

/** The backup verification query set. */
export type BackupVerificationQueries = ReturnType<typeof createBackupVerificationQueries>;
