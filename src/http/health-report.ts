/**
 * The health check the field notes describe: the fleet summary (`fleet-view.ts`) plus, per
 * company, its connection, files with their level, backups (count, newest, verified) and the
 * recommendations, each with the command to run. What `warden health`, the bot's /health and the
 * dashboard show.
 */
import { backupSummaries, companyFindings, type Finding, severityRank } from "./company-findings.js";
import {
  type CompanyView,
  companyViews,
  type FleetHealth,
  type FleetSource,
  fleetHealth,
  worstFirst,
} from "./fleet-view.js";

/** One company in the health check. */
export interface CompanyHealth {
  id: string;
  connection: CompanyView["connection"];
  level: CompanyView["level"];
  files: CompanyView["files"];
  backups: { count: number; newestAt: number | null; newestVerified: boolean | null };
}

/** The whole health check (`warden health --json`). */
export interface HealthReport extends Omit<FleetHealth, "companies"> {
  /** How many companies are present. */
  companyCount: number;
  /** Every present company, worst first. */
  companies: CompanyHealth[];
  /** What to do, worst first, each with the command that helps. */
  recommendations: { company: string; severity: Finding["severity"]; text: string; command: string }[];
}

/** Builds the report (one readdir of the backups folder per company). */
export async function healthReport(
  source: FleetSource,
  backupsRoot: string | undefined,
): Promise<HealthReport> {
  const summary = fleetHealth(source);
  const views = companyViews(source).sort(worstFirst);
  const backups = await backupSummaries(
    source.store,
    backupsRoot,
    views.map((v) => v.id),
  );
  const config = source.config();
  const now = source.now();
  const recommendations = views
    .flatMap((v) => companyFindings(source.store, config, v, backups.get(v.id), now))
    // Incidents and their owners are the digest's; the health check says what to run.
    .filter((f): f is Finding & { command: string } => f.command !== null && f.about !== "incident")
    .sort((a, b) => severityRank(a) - severityRank(b))
    .map(({ company, severity, text, command }) => ({ company, severity, text, command }));
  const { companies: companyCount, ...rest } = summary;
  return {
    ...rest,
    companyCount,
    companies: views.map((v) => {
      const b = backups.get(v.id);
      return {
        id: v.id,
        connection: v.connection,
        level: v.level,
        files: v.files,
        backups: {
          count: b?.count ?? 0,
          newestAt: b?.newestAt ?? null,
          newestVerified: b?.newestVerified ?? null,
        },
      };
    }),
    recommendations,
  };
}
