/**
 * Backups of one company folder: create (with pruning), verify, list and extract. One file per job:
 * - backup-create.ts: writing an archive (tar.gz, optionally sealed), publishing it, pruning;
 * - backup-read.ts: streaming an archive back (decrypt, hash, check), verify and extract;
 * - backup-tar.ts: tar entries (write) and the tar parser (read);
 * - backup-manifest.ts: the manifest's shape and its check against the archive;
 * - backup-files.ts: names, the list newest first, retention, dead temp archives;
 * - sealed-container.ts: the AES-256-GCM/scrypt container shared with creds snapshots.
 * Importers use this module; the formats ("WWBK1", manifest version 1) are unchanged.
 */
export { BackupInvalidError } from "../../errors.js";
export { type CreateBackupOptions, type CreatedBackup, createBackup } from "./backup-create.js";
export { type BackupInfo, DEFAULT_BACKUP_KEEP, formatTimestamp, listBackups } from "./backup-files.js";
export { type BackupManifest, MANIFEST_NAME, type ManifestFile } from "./backup-manifest.js";
export {
  type ExtractResult,
  extractBackup,
  type VerifyOptions,
  type VerifyResult,
  verifyBackup,
} from "./backup-read.js";
