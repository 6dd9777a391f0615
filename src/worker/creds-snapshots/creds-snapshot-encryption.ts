/**
 * Whether creds snapshots are encrypted (creds-snapshot.ts seals them when WARDEN_BACKUP_KEY is
 * set): the warning the supervisor and the workers log at start-up and `warden doctor` shows.
 */
import type { Store } from "../../store/store.js";

/** Whether creds snapshots are protected: for start-up warnings and `warden doctor`. */
export interface CredsSnapshotEncryption {
  /** WARDEN_BACKUP_KEY is set: new snapshots are sealed. */
  keySet: boolean;
  /** Stored snapshots in plain JSON (written without a key, or before one was set). */
  plainRows: number;
  /** What to tell the operator, or null when every snapshot is and will be sealed. */
  warning: string | null;
}

/**
 * Are creds snapshots encrypted? Without WARDEN_BACKUP_KEY each company's identity sits in plain
 * JSON in warden.db: whoever reads the database can take over the numbers.
 */
export function credsSnapshotsEncrypted(store: Store, keySet: boolean): CredsSnapshotEncryption {
  const plainRows = store.credsSnapshots.plainCount();
  let warning: string | null = null;
  if (!keySet) {
    warning = `WARDEN_BACKUP_KEY is not set: creds snapshots (each company's WhatsApp identity) are stored unencrypted in warden.db (${plainRows} now); set it to seal them`;
  } else if (plainRows > 0) {
    warning = `${plainRows} creds snapshot(s) in warden.db were stored before WARDEN_BACKUP_KEY was set and are unencrypted; they are replaced as the files change (or retire them with a new pairing)`;
  }
  return { keySet, plainRows, warning };
}
