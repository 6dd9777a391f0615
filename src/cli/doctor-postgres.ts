/**
 * `warden doctor`'s postgres line: when a company keeps its keys in the postgres store (or
 * WARDEN_PG_URL is set), connect, make sure the `warden_auth` schema is there (created if the role
 * may), and check that every postgres company has its rows. Never throws; never prints the
 * password (the URL is shown scrubbed).
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { PostgresDb } from "../auth-store/postgres-db.js";
import { postgresCompanyExists } from "../auth-store/postgres-rows.js";
import { readStoreChoice } from "../auth-store/store-choice.js";
import { isCompanyId } from "../config/company-id.js";
import type { WardenConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { describeError } from "../errors.js";
import type { CheckResult } from "./doctor-checks.js";

const NAME = "postgres auth store";

/** The companies whose warden-auth.json names postgres (unreadable folders are other checks' business). */
async function postgresCompanies(sessionsDir: string): Promise<string[]> {
  const entries = await readdir(sessionsDir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !isCompanyId(e.name)) continue;
    const kind = await readStoreChoice(path.join(sessionsDir, e.name)).catch(() => "files");
    if (kind === "postgres") out.push(e.name);
  }
  return out.sort();
}

/** Connect + schema + rows of each postgres company; no result when nothing uses postgres and no URL is set. */
export async function checkPostgres(
  env: Pick<WardenEnv, "pgUrl">,
  config: WardenConfig,
): Promise<CheckResult[]> {
  const companies = await postgresCompanies(config.sessionsDir);
  if (companies.length === 0 && env.pgUrl === undefined) return [];
  if (env.pgUrl === undefined) {
    return [
      {
        name: NAME,
        status: "fail",
        detail: `${companies.length} company(ies) keep their keys in postgres (${companies.slice(0, 3).join(", ")}) but WARDEN_PG_URL is not set`,
        fix: "set WARDEN_PG_URL (or WARDEN_PG_URL_FILE) for the supervisor, the workers and this shell",
      },
    ];
  }
  let db: PostgresDb | undefined;
  try {
    db = await PostgresDb.acquire(env.pgUrl);
    const missing: string[] = [];
    for (const company of companies) if (!(await postgresCompanyExists(db, company))) missing.push(company);
    if (missing.length > 0) {
      return [
        {
          name: NAME,
          status: "fail",
          detail: `${db.where}: connected, schema warden_auth ready, but no rows of ${missing.join(", ")} (their warden-auth.json names postgres)`,
          fix: "point WARDEN_PG_URL at the database that holds them, or restore those companies from a backup",
        },
      ];
    }
    return [
      {
        name: NAME,
        status: "ok",
        detail: `${db.where}: connected, schema warden_auth ready, ${companies.length} company(ies) on postgres`,
      },
    ];
  } catch (err) {
    return [
      {
        name: NAME,
        status: "fail",
        detail: `${describeError(err)}${companies.length > 0 ? `; ${companies.length} company(ies) cannot be read: ${companies.join(", ")}` : ""}`,
        fix: "check the URL, that the server accepts this host, and that the role has CREATE on the database (or that the warden_auth schema exists with its tables)",
      },
    ];
  } finally {
    await db?.release();
  }
}
