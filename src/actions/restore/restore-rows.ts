/**
 * Restoring a database company: the verified archive is extracted to a staging folder, the current
 * database is copied aside into WARDEN_HOME/replaced/<company>/ (as a folder restore keeps the old
 * folder), then every row is replaced by the archive's files in ONE transaction (a file's mtime
 * becomes its row's times), so a crash leaves the old rows or the new ones, never a mix. Archive
 * entries that are not Baileys keys cannot be rows: they are listed, not restored.
 */
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { AuthPut } from "../../auth-store/auth-rows.js";
import { type AuthStoreAccess, openCompanyRows } from "../../auth-store/company-rows.js";
import { rowOfName } from "../../auth-store/key-names.js";
import type { StoreKind } from "../../auth-store/store-choice.js";
import { readRegularFile } from "../../fs/safe-read.js";
import { replacedDir, restoresDir } from "../../home-layout.js";
import { extractBackup, formatTimestamp } from "../backup/backup.js";

/** What a rows restore did. */
export interface RowsRestored {
  files: number;
  /** Where the previous database was copied. */
  movedAside: string;
  /** Archive entries left out (not Baileys keys). */
  skipped: string[];
}

/** Replaces a database company's rows by the backup's files; the previous database is kept aside. */
export async function restoreRows(options: {
  access: AuthStoreAccess;
  company: string;
  kind: Exclude<StoreKind, "files">;
  backupFile: string;
  backupKey: string | undefined;
  now: number;
  renew: () => void;
}): Promise<RowsRestored> {
  const { access, company, now } = options;
  const staging = path.join(
    restoresDir(access.home),
    `.staging-${company}-${randomBytes(4).toString("hex")}`,
  );
  const rows = await openCompanyRows(access, company, options.kind);
  try {
    await extractBackup(options.backupFile, staging, { key: options.backupKey });
    options.renew();
    const puts: AuthPut[] = [];
    const skipped: string[] = [];
    for (const name of (await readdir(staging)).sort()) {
      if (!rowOfName(name)) {
        skipped.push(name);
        continue;
      }
      const read = await readRegularFile(path.join(staging, name), { maxBytes: Number.POSITIVE_INFINITY });
      if (read) puts.push({ name, data: read.data, at: Math.round(read.stat.mtimeMs) });
    }
    const movedAside = await rows.keepCopy(
      path.join(replacedDir(access.home, company), `${formatTimestamp(now)}-before-restore`),
    );
    await rows.replaceAll(puts, now);
    return { files: puts.length, movedAside, skipped };
  } finally {
    await rows.close();
    await rm(staging, { recursive: true, force: true });
  }
}
