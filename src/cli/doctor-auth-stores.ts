/**
 * `warden doctor`'s per-company auth store lines: every company's warden-auth.json can be read, and
 * every sqlite company's database under WARDEN_HOME/auth/ opens and lists its rows (the same read
 * the scanner and `warden status` make). One failing line per company that cannot be read, naming
 * it and the file; one ok line for the sqlite companies otherwise. Postgres is doctor-postgres.ts.
 * Never throws.
 */
import path from "node:path";
import { listSqliteSync } from "../auth-store/sqlite-scan.js";
import { readStoreChoice, type StoreKind } from "../auth-store/store-choice.js";
import { listCompanyIds } from "../config/company-id.js";
import type { WardenConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { describeError } from "../errors.js";
import { authDatabaseFile, authDir } from "../home-layout.js";
import { type CheckResult, fixCommands } from "./doctor-checks.js";

/** One line per unreadable company store, and one for the sqlite companies that open. */
export async function checkAuthStores(
  env: Pick<WardenEnv, "home" | "pm2Home" | "configFile">,
  config: WardenConfig,
): Promise<CheckResult[]> {
  const ids = listCompanyIds(config.sessionsDir);
  const out: CheckResult[] = [];
  let sqliteOk = 0;
  for (const id of ids) {
    let kind: StoreKind;
    try {
      kind = await readStoreChoice(path.join(config.sessionsDir, id));
    } catch (err) {
      out.push({
        name: `auth store of ${id}`,
        status: "fail",
        detail: describeError(err),
        fix: `write {"store": "files" | "sqlite" | "postgres"} (where its keys are) into ${path.join(config.sessionsDir, id, "warden-auth.json")}`,
      });
      continue;
    }
    if (kind !== "sqlite") continue;
    const file = authDatabaseFile(env.home, id);
    try {
      listSqliteSync(file, id);
      sqliteOk++;
    } catch (err) {
      out.push({
        name: `auth store of ${id}`,
        status: "fail",
        detail: describeError(err),
        fix: `put the database back at ${file} (is WARDEN_HOME the supervisor's?), or restore the company from a backup (\`${fixCommands(env).warden(`restore ${id}`)}\`)`,
      });
    }
  }
  if (sqliteOk > 0)
    out.push({
      name: "sqlite auth stores",
      status: "ok",
      detail: `${sqliteOk} company(ies) on sqlite, each database opens in ${authDir(env.home)}`,
    });
  return out;
}
