/**
 * `warden health [--watch] [--json]`: one screen of the fleet's health, read from the database
 * (workers alive, outbox backlog, outage, companies per level, companies down, ladder steps
 * running). `--watch` redraws it in place every 2 s until Ctrl-C (with --json: one line per draw).
 */
import { existsSync } from "node:fs";
import { LEVELS } from "../alerts/evaluate-thresholds.js";
import { formatDuration } from "../config/duration.js";
import { loadConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { ExitCodes } from "../errors.js";
import { databaseFile } from "../home-layout.js";
import { type FleetHealth, fleetHealth } from "../http/fleet-view.js";
import { openStore } from "../store/store.js";
import type { CommandSpec } from "./command.js";

const WATCH_EVERY_MS = 2_000;
const SHOWN = 10;

/** Renders the summary as text. */
export function renderHealth(h: FleetHealth): string {
  const ago = (at: number | null) => (at === null ? "?" : formatDuration(h.at - at));
  const lines = [
    `wa-warden health  ${new Date(h.at).toISOString().slice(0, 19).replace("T", " ")} UTC`,
    `workers    ${h.workers.alive} alive (heartbeating) of ${h.workers.registered} running`,
    `outbox     ${h.outbox.pending} pending`,
    `outage     ${h.outage ? `since ${ago(h.outage.since)} (${h.outage.reason}), ${h.outage.down} companies down` : "none"}`,
    `companies  ${h.companies}: ${LEVELS.map((l) => `${l} ${h.levels[l]}`).join(", ")}`,
    `down       ${h.down.length}${h.down.length > 0 ? ":" : ""}`,
  ];
  for (const d of h.down.slice(0, SHOWN)) lines.push(`  ${d.id}  ${d.state}, down ${ago(d.downSince)}`);
  if (h.down.length > SHOWN) lines.push(`  ... and ${h.down.length - SHOWN} more`);
  lines.push(`ladder     ${h.ladderRunning.length} step(s) running${h.ladderRunning.length > 0 ? ":" : ""}`);
  for (const r of h.ladderRunning.slice(0, SHOWN))
    lines.push(`  ${r.company}  ${r.step} for ${ago(r.since)}`);
  return lines.join("\n");
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
  const draw = (clear: boolean) => {
    const h = fleetHealth(source);
    if (options.json) out(`${JSON.stringify(h)}\n`);
    else out(`${clear ? "\x1b[H\x1b[2J" : ""}${renderHealth(h)}\n`);
  };
  try {
    if (!options.watch) {
      draw(false);
      return ExitCodes.OK;
    }
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => draw(!options.json), WATCH_EVERY_MS);
      const stop = () => {
        clearInterval(timer);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      draw(!options.json);
    });
    return ExitCodes.OK;
  } finally {
    store.close();
  }
}

/** `warden health [--watch] [--json]`. */
export const healthCommandSpec: CommandSpec = {
  name: "health",
  summary: "workers, outbox, outage, companies per level and down, ladder steps",
  details: "--watch redraws the screen every 2 s until Ctrl-C.",
  options: { watch: { type: "boolean", description: "redraw every 2 s until Ctrl-C" } },
  args: { min: 0, max: 0 },
  run: (ctx, { options }) => healthCommand(ctx.env, { json: ctx.json, watch: options.watch === true }),
};
