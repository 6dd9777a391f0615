/**
 * A company folder made ready before each socket opens (under the lease): first, the folder must
 * exist and be a directory: a session never creates a company folder (an operator's removal, or
 * `warden remove`, stays a removal; Baileys' own auth state would mkdir it and write fresh creds).
 * Then a missing creds.json is restored from its newest snapshot that opens, and the creds files
 * on disk are snapshotted. The worker (`worker.ts`) calls it through the session's `beforeOpen` hook.
 */
import { stat } from "node:fs/promises";
import { readStoreChoice } from "../auth-store/store-choice.js";
import type { Clock } from "../clock.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { SnapshotSealer } from "./creds-snapshots/creds-snapshot.js";
import { snapshotFolder } from "./creds-snapshots/creds-snapshot.js";
import { restoreMissingCreds } from "./creds-snapshots/restore-missing-creds.js";

/** What preparing a folder needs: the store, the clock, the snapshot sealer and the worker's holder id. */
export interface PrepareFolderContext {
  store: Store;
  clock: Clock;
  sealer: SnapshotSealer;
  holder: string;
}

/**
 * "missing" when the folder is gone (the session must stop). Otherwise restores a missing creds.json from its newest snapshot that opens, then snapshots the creds
 * files on disk (so a folder has versions before its first change). Never throws: a company whose
 * creds cannot be restored pairs again (QR), as it did before snapshots existed; its session does
 * not try again (each QR timeout reconnects: one failed audit row, not one per QR round).
 */
export async function prepareFolder(
  ctx: PrepareFolderContext,
  company: string,
  dir: string,
  logger: Logger,
  keep: number,
  restoring: { enabled: boolean },
): Promise<"ready" | "missing"> {
  const { store, clock, sealer } = ctx;
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) {
    logger.warn({ dir }, `${company}: the company folder is gone; the session stops (it never creates one)`);
    return "missing";
  }
  // A database store's creds live in their row (written in one transaction, snapshotted on write);
  // its folder holds no creds.json to restore or snapshot. An unreadable choice fails at open.
  if ((await readStoreChoice(dir).catch(() => "unknown")) !== "files") return "ready";
  if (restoring.enabled && (await restoreCreds(ctx, company, dir, logger)) === "failed") {
    restoring.enabled = false;
  }
  try {
    await snapshotFolder(store, sealer, company, dir, keep, clock.now());
  } catch (err) {
    logger.error({ err }, `Snapshot of ${company}'s creds files failed: ${describeError(err)}`);
  }
  return "ready";
}

async function restoreCreds(
  ctx: PrepareFolderContext,
  company: string,
  dir: string,
  logger: Logger,
): Promise<string> {
  const { store, clock, holder, sealer } = ctx;
  try {
    const outcome = await restoreMissingCreds({
      store,
      sealer,
      company,
      dir,
      actor: `worker:${holder}`,
      now: clock.now(),
    });
    if (outcome.status === "restored") {
      logger.warn(
        { files: outcome.files, snapshotAt: outcome.snapshotAt, problems: outcome.problems },
        `${company} had no creds.json: restored ${outcome.files.join(", ")} from the snapshot of ${new Date(outcome.snapshotAt).toISOString()}`,
      );
    } else if (outcome.status === "failed") {
      logger.error(
        { problems: outcome.problems },
        `${company} has no creds.json and its snapshots could not be restored (a QR scan will be needed): ${outcome.problems[0]}`,
      );
    }
    return outcome.status;
  } catch (err) {
    // Unexpected (the folder unreadable, the database gone): tried again before the next socket.
    logger.error({ err }, `Restoring ${company}'s creds.json failed: ${describeError(err)}`);
    return "error";
  }
}
