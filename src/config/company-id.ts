/** Company ids are folder names under sessionsDir; they are also used in file names and SQL rows. */
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { ErrorCodes, WardenError } from "../errors.js";

const COMPANY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** True when `id` is safe as a company id (no path separators, no leading dot, no `..`). */
export function isCompanyId(id: string): boolean {
  return COMPANY_ID_RE.test(id) && !id.includes("..");
}

/** Throws a WARDEN_ERR_COMPANY_ID_INVALID error naming the id unless it is a valid company id. */
export function assertCompanyId(id: string): string {
  if (!isCompanyId(id)) {
    throw new WardenError(
      ErrorCodes.COMPANY_ID_INVALID,
      `Invalid company id ${JSON.stringify(id)}: use 1-128 letters, digits, ".", "_" and "-" (no "/", no "..", not starting with "." or "-")`,
      { company: id },
    );
  }
  return id;
}

/**
 * Validates the id and checks the company's folder is a real folder; returns the folder path. A
 * symlink is refused, never followed (invariant 2: `status <id>` and `backup <id>` once read through one).
 */
export function assertCompanyFolder(sessionsDir: string, company: string): string {
  assertCompanyId(company);
  const dir = path.join(sessionsDir, company);
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) {
    throw new WardenError(
      ErrorCodes.COMPANY_UNKNOWN,
      `Unknown company ${JSON.stringify(company)}: no folder ${dir}`,
      { company, missing: true },
    );
  }
  if (!st.isDirectory()) {
    const what = st.isSymbolicLink() ? "a symlink, not a folder (symlinks are not followed)" : "not a folder";
    throw new WardenError(ErrorCodes.COMPANY_UNKNOWN, `${dir} is ${what}: a company must be a real folder`, {
      company,
    });
  }
  return dir;
}

/** The company ids with a folder in sessionsDir, sorted (none when it cannot be read). */
export function listCompanyIds(sessionsDir: string): string[] {
  try {
    return readdirSync(sessionsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && isCompanyId(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    // No sessionsDir yet: there is nothing to suggest.
    return [];
  }
}
