/**
 * The shared start and end of every action that changes a company folder (cleanup, reset, restore,
 * new pairing, remove): the folder checked to be a real folder, the company held (no socket writes
 * while it is, invariant 8), and one audit row whatever the outcome.
 */
import { lstat } from "node:fs/promises";
import { assertCompanyFolder } from "../config/company-id.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import type { ActionContext } from "./action-context.js";
import { type CompanyHold, holdCompany } from "./company-hold.js";
import { finishInterruptedRestore } from "./restore/folder-swap.js";

/** Who changes which company, and how the hold is had. */
export interface ChangeRequest {
  company: string;
  /** Who acts: "ladder", "cli:alice", "telegram:123". */
  actor: string;
  /** Stop the company through its worker first (the ladder, `--stop`, the bot's Confirm). */
  stopFirst?: boolean;
  /** An already-taken hold: the caller keeps it and releases it. */
  hold?: CompanyHold;
  /** Gives up waiting for the stop (the caller is shutting down). */
  signal?: AbortSignal;
}

/** The company's folder, a real folder (symlinks are refused, never followed: invariant 2). */
export async function checkedCompanyFolder(context: ActionContext, company: string): Promise<string> {
  const dir = assertCompanyFolder(context.sessionsDir, company);
  // Checked again without following: the folder may have been swapped for a symlink since.
  if (!(await lstat(dir)).isDirectory()) {
    throw new WardenError(ErrorCodes.COMPANY_UNKNOWN, `${dir} is not a folder (symlinks are not followed)`, {
      company,
    });
  }
  return dir;
}

/**
 * The company's hold for a change: the given one (whose `release` is then left to its owner, so
 * the action may call it unconditionally), or a new one, stopping the company first when asked.
 */
export async function holdFor(context: ActionContext, request: ChangeRequest): Promise<CompanyHold> {
  const given = request.hold;
  if (given)
    return { company: given.company, holder: given.holder, renew: () => given.renew(), release: () => {} };
  return holdCompany({
    store: context.store,
    clock: context.clock,
    company: request.company,
    actor: request.actor,
    stopFirst: request.stopFirst,
    ttlMs: context.limits.holdTtlMs,
    stopTimeoutMs: context.limits.stopTimeoutMs,
    ...(request.signal ? { signal: request.signal } : {}),
  });
}

/**
 * The start of a change that replaces or moves the folder (a new pairing, a removal): the folder
 * checked, a swap a crash interrupted finished first (so the folder is whole), then the hold.
 */
export async function beginFolderChange(
  context: ActionContext,
  request: ChangeRequest,
): Promise<{ dir: string; hold: CompanyHold }> {
  const dir = await checkedCompanyFolder(context, request.company);
  await finishInterruptedRestore(context.home, context.sessionsDir, request.company);
  return { dir, hold: await holdFor(context, request) };
}

/** One audit row of a change; returns its id. */
export function auditChange(
  context: ActionContext,
  request: Pick<ChangeRequest, "company" | "actor">,
  row: { action: string; ok: boolean; result: string; detail: Record<string, unknown> },
): number {
  return context.store.audit.add({
    at: context.clock.now(),
    actor: request.actor,
    company: request.company,
    ...row,
  });
}

/** The audit row of a change that failed: `<what>: <the error>`, with what it had done so far. */
export function auditFailure(
  context: ActionContext,
  request: Pick<ChangeRequest, "company" | "actor">,
  action: string,
  err: unknown,
  detail: Record<string, unknown>,
  what = "failed",
): number {
  return auditChange(context, request, {
    action,
    ok: false,
    result: `${what}: ${describeError(err)}`,
    detail,
  });
}
