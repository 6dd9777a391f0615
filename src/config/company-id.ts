/** Company ids are folder names under sessionsDir; they are also used in file names and SQL rows. */
import { existsSync } from "node:fs";
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
      `Invalid company id ${JSON.stringify(id)}: use letters, digits, ".", "_" and "-" (no "/", no "..", not starting with "." or "-")`,
      { company: id },
    );
  }
  return id;
}

/** Validates the id and checks the company's folder exists; returns the folder path. */
export function assertCompanyFolder(sessionsDir: string, company: string): string {
  assertCompanyId(company);
  const dir = path.join(sessionsDir, company);
  if (!existsSync(dir)) {
    throw new WardenError(
      ErrorCodes.COMPANY_UNKNOWN,
      `Unknown company ${JSON.stringify(company)}: no folder ${dir}`,
      {
        company,
      },
    );
  }
  return dir;
}
