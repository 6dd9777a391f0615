/**
 * The QR-required executor: what the ladder does once reconnecting cannot help (401 logged out, 403
 * forbidden, a reset that did not bring the company back). It stops the company through its worker,
 * takes a verified backup, deletes nothing, marks the connection qr_required and audits it; the
 * company then stays stopped until an operator pairs it again (`warden pair <company> --new`).
 */
import type { ActionContext } from "../action-context.js";
import { createBackup, verifyBackup } from "../backup/backup.js";
import { auditChange, holdFor } from "../hold-for-change.js";

/** What runQrRequired is asked. */
export interface QrRequiredRequest {
  company: string;
  /** Who declares it ("ladder"): the hold, the connection's holder and the audit row name it. */
  actor: string;
  /** Why a QR is needed, for the connection message and the audit row. */
  reason: string;
  /** Gives up waiting for the stop (the caller is shutting down). */
  signal?: AbortSignal;
}

/** Stops the company, backs it up, marks it qr_required and audits it; returns the step's result. */
export async function runQrRequired(context: ActionContext, request: QrRequiredRequest): Promise<string> {
  const { store, clock } = context;
  const { company, actor, reason } = request;
  const hold = await holdFor(context, { ...request, stopFirst: true });
  try {
    // Not backUpBeforeChange: nothing is changed here, so a failed verification is reported, not thrown.
    const backup = await createBackup({
      company,
      dir: `${context.sessionsDir}/${company}`,
      backupsRoot: context.backupsRoot,
      reason: "qr-required",
      now: clock.now(),
      key: context.backupKey,
      keep: context.settings(company).backups.keep,
      authStore: context.authStore,
    });
    const verified = await verifyBackup(backup.path, { key: context.backupKey });
    const code = store.connections.get(company)?.code ?? null;
    store.transaction(() => {
      store.connections.transition(
        { company, to: "qr_required", code, message: `${actor}: ${reason}`, holder: actor },
        clock.now(),
      );
      auditChange(context, request, {
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
