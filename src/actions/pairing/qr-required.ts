/**
 * The QR-required executor: what the ladder does once reconnecting cannot help (401 logged out, 403
 * forbidden, a reset that did not bring the company back). It stops the company through its worker,
 * takes a verified backup, deletes nothing, marks the connection qr_required and audits it; the
 * company then stays stopped until an operator pairs it again (`warden pair <company> --new`).
 */
import type { Clock } from "../../clock.js";
import type { CompanySettings } from "../../config/schema.js";
import type { Store } from "../../store/store.js";
import { createBackup, verifyBackup } from "../backup/backup.js";
import { holdCompany } from "../company-hold.js";

/** Inputs of runQrRequired. */
export interface QrRequiredOptions {
  store: Store;
  clock: Clock;
  sessionsDir: string;
  backupsRoot: string;
  company: string;
  settings: Pick<CompanySettings, "backups">;
  /** Who declares it ("ladder"): the hold, the connection's holder and the audit row name it. */
  actor: string;
  /** Why a QR is needed, for the connection message and the audit row. */
  reason: string;
  /** WARDEN_BACKUP_KEY: the backup is encrypted. */
  backupKey?: string;
  /** How long to wait for the worker to acknowledge the stop. */
  stopTimeoutMs?: number;
  /** Gives up waiting for the stop (the caller is shutting down). */
  signal?: AbortSignal;
}

/** Stops the company, backs it up, marks it qr_required and audits it; returns the step's result. */
export async function runQrRequired(options: QrRequiredOptions): Promise<string> {
  const { store, clock, company, actor, reason } = options;
  const hold = await holdCompany({
    store,
    clock,
    company,
    actor,
    stopFirst: true,
    stopTimeoutMs: options.stopTimeoutMs,
    signal: options.signal,
  });
  try {
    const backup = await createBackup({
      company,
      dir: `${options.sessionsDir}/${company}`,
      backupsRoot: options.backupsRoot,
      reason: "qr-required",
      now: clock.now(),
      key: options.backupKey,
      keep: options.settings.backups.keep,
    });
    const verified = await verifyBackup(backup.path, { key: options.backupKey });
    const code = store.connections.get(company)?.code ?? null;
    store.transaction(() => {
      store.connections.transition(
        { company, to: "qr_required", code, message: `${actor}: ${reason}`, holder: actor },
        clock.now(),
      );
      store.audit.add({
        at: clock.now(),
        actor,
        company,
        action: "qr-required",
        ok: verified.ok,
        result: `QR required (${reason}); nothing deleted; backup ${backup.path}${verified.ok ? " verified" : " FAILED verification"}`,
        detail: { backup: backup.path, problems: verified.problems },
      });
    });
    return `qr_required: backup ${backup.path}${verified.ok ? " verified" : " failed verification"}; nothing deleted`;
  } finally {
    // Stays stopped: reconnecting a logged-out session only repeats the 401.
    hold.release(`${actor} qr_required`, { resume: false });
  }
}
