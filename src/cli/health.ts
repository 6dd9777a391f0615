/**
 * `warden health [--watch] [--json]`: one screen of the fleet's health, read from the database
 * (workers alive, outbox backlog, outage, companies per level, companies down, ladder steps
 * running), then per company its connection, level, files and backups (count, newest, verified)
 * and the recommendations, each with the command to run (src/http/health-report.ts). `--watch`
 * redraws it in place every 2 s until Ctrl-C (with --json: one line per draw).
 */
import { existsSync } from "node:fs";
import { LEVELS } from "../alerts/evaluate-thresholds.js";
import { formatDuration } from "../config/duration.js";
import { loadConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { ExitCodes } from "../errors.js";
import { backupsRoot, databaseFile } from "../home-layout.js";
import { extraCommand } from "../http/company-findings.js";
import type { FleetHealth } from "../http/fleet-view.js";
import { type HealthReport, healthReport } from "../http/health-report.js";
import { openStore } from "../store/store.js";
import type { CommandSpec } from "./command.js";

const WATCH_EVERY_MS = 2_000;
const SHOWN = 10;

/** Renders the summary as text. */
export function renderHealth(h: FleetHealth | HealthReport): string {
  const ago = (at: number | null) => (at === null ? "?" : formatDuration(h.at - at));
  const lines = [
    `wa-warden health  ${new Date(h.at).toISOString().slice(0, 19).replace("T", " ")} UTC`,
    `workers    ${h.workers.alive} alive (heartbeating) of ${h.workers.registered} running`,
    `outbox     ${h.outbox.pending} pending`,
    `outage     ${h.outage ? `since ${ago(h.outage.since)} (${h.outage.reason}), ${h.outage.down} companies down` : "none"}`,
    `companies  ${"companyCount" in h ? h.companyCount : h.companies}: ${LEVELS.map((l) => `${l} ${h.levels[l]}`).join(", ")}`,
    `down       ${h.down.length}${h.down.length > 0 ? ":" : ""}`,
  ];
  for (const d of h.down.slice(0, SHOWN)) lines.push(`  ${d.id}  ${d.state}, down ${ago(d.downSince)}`);
  if (h.down.length > SHOWN) lines.push(`  ... and ${h.down.length - SHOWN} more`);
  lines.push(`ladder     ${h.ladderRunning.length} step(s) running${h.ladderRunning.length > 0 ? ":" : ""}`);
  for (const r of h.ladderRunning.slice(0, SHOWN))
    lines.push(`  ${r.company}  ${r.step} for ${ago(r.since)}`);
  if ("companyCount" in h) lines.push(...renderCompanies(h));
  return lines.join("\n");
}

const SEVERITY_MARK = { critical: "!!", warning: "! ", info: "  " } as const;

/** The per-company table (worst first, the healthy rest as a count) and the recommendations. */
function renderCompanies(h: HealthReport): string[] {
  const ago = (at: number | null) => (at === null ? "-" : `${formatDuration(Math.max(0, h.at - at))} ago`);
  const shown = h.companies.slice(0, SHOWN);
  const width = Math.max(7, ...shown.map((c) => c.id.length));
  const lines = ["", `${"company".padEnd(width)}  connection    level     files  backups`];
  for (const c of shown) {
    const b = c.backups;
    const backups =
      b.count === 0
        ? "none"
        : `${b.count}, newest ${ago(b.newestAt)}, ${b.newestVerified === true ? "verified" : b.newestVerified === false ? "FAILED verification" : "not verified"}`;
    lines.push(
      `${c.id.padEnd(width)}  ${c.connection.state.padEnd(12)}  ${c.level.padEnd(8)}  ${String(c.files.counted ?? 0).padStart(5)}  ${backups}`,
    );
  }
  if (h.companies.length > SHOWN) lines.push(`... and ${h.companies.length - SHOWN} more`);
  lines.push(
    "",
    `recommendations  ${h.recommendations.length}${h.recommendations.length > 0 ? ":" : " (nothing to do)"}`,
  );
  for (const r of h.recommendations.slice(0, 3 * SHOWN))
    lines.push(`${SEVERITY_MARK[r.severity]} ${r.text}${extraCommand(r) ? `: ${r.command}` : ""}`);
  if (h.recommendations.length > 3 * SHOWN)
    lines.push(`   ... and ${h.recommendations.length - 3 * SHOWN} more (--json lists all)`);
  return lines;
}

/** Runs the command; resolves with the exit status (with --watch, after SIGINT/SIGTERM). */
export async function healthCommand(
  env: WardenEnv,
  options: { json: boolean; watch: boolean },
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const config = loadConfig(env.configFile);
  const dbFile = databaseFile(env.home);
  if (!existsSync(dbFile)) {
    process.stderr.write(
      `warden: no database at ${dbFile} yet: is the supervisor running with this WARDEN_HOME?\n`,
    );
    return ExitCodes.FAILURE;
  }
  const store = openStore(dbFile);
  const source = { store, config: () => config, now: () => Date.now() };
  const draw = async (clear: boolean) => {
    const h = await healthReport(source, backupsRoot(env.home));
    if (options.json) out(`${JSON.stringify(h)}\n`);
    else out(`${clear ? "\x1b[H\x1b[2J" : ""}${renderHealth(h)}\n`);
  };
  try {
    if (!options.watch) {
      await draw(false);
      return ExitCodes.OK;
    }
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let stopped = false;
      // The next draw is armed after the previous one finished (a slow disk never stacks draws).
      const tick = () =>
        void draw(!options.json)
          .catch((err: unknown) => {
            if (!stopped) process.stderr.write(`warden health: ${(err as Error).message}\n`);
          })
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, WATCH_EVERY_MS);
          });
      const stop = () => {
        stopped = true;
        clearTimeout(timer);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      tick();
    });
    return ExitCodes.OK;
  } finally {
    store.close();
  }
}

/** `warden health [--watch] [--json]`. */
export const healthCommandSpec: CommandSpec = {
  name: "health",
  summary:
    "workers, outbox, outage, per company connection, files, backups; recommendations with the commands",
  details: "--watch redraws the screen every 2 s until Ctrl-C.",
  options: { watch: { type: "boolean", description: "redraw every 2 s until Ctrl-C" } },
  args: { min: 0, max: 0 },
  run: (ctx, { options }) => healthCommand(ctx.env, { json: ctx.json, watch: options.watch === true }),
};
