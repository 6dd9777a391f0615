/**
 * `warden incident [close <id>]`: WhatsApp-side fleet incidents (many companies logging out, going
 * deaf or starting a decrypt storm together). Listing shows the open ones and the latest closed;
 * closing one is the operator's word that the ladder may act on its companies again (audited per
 * company).
 */

import { wardenCommand } from "../cli-invocation.js";
import { ExitCodes } from "../errors.js";
import type { FleetIncident } from "../store/liveness.js";
import type { Store } from "../store/store.js";
import { type CommandSpec, usageError } from "./command.js";

const iso = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");

function describe(i: FleetIncident): string {
  const state = i.closedAt === null ? "OPEN" : `closed ${iso(i.closedAt)} by ${i.closedBy}`;
  return `#${i.id}  ${iso(i.startedAt)}  ${state}  ${i.detail}: ${i.companies.join(", ")}`;
}

/** `warden incident`. */
export const incidentCommand: CommandSpec = {
  name: "incident",
  argsUsage: "[close <id>]",
  summary: "fleet incidents (many companies failing together); close one to let the ladder act again",
  details:
    "While an incident is open, the ladder holds every step (QR required, cleanups, resets, socket\nrecreations) for the companies in it: one WhatsApp-side problem, not N company problems.",
  args: { min: 0, max: 2 },
  async run(ctx, { args }) {
    if (args.length === 0) {
      const store = ctx.store({ ifExists: true });
      const rows = store ? store.liveness.incidents(20) : [];
      if (ctx.json) ctx.out(JSON.stringify({ incidents: rows }));
      else if (rows.length === 0) ctx.out("No fleet incidents recorded.");
      else for (const r of rows) ctx.out(describe(r));
      return ExitCodes.OK;
    }
    const id = Number(args[1]);
    if (args[0] !== "close" || !Number.isInteger(id) || id < 1)
      throw usageError(
        `expected "close <id>" with an incident number, got ${JSON.stringify(args.join(" "))}`,
        this,
      );
    const store = ctx.store() as Store;
    const incident = store.liveness.openIncidents().find((i) => i.id === id);
    if (!incident)
      throw usageError(`incident #${id} is not open (${wardenCommand("incident")} lists them)`, this);
    const now = ctx.now();
    store.transaction(() => {
      store.liveness.closeIncident(id, ctx.actor, now);
      for (const company of incident.companies)
        store.audit.add({
          at: now,
          actor: ctx.actor,
          company,
          action: "incident-close",
          ok: true,
          result: `fleet incident #${id} closed: the ladder acts again`,
          detail: { incident: id },
        });
    });
    if (ctx.json) ctx.out(JSON.stringify({ closed: id, companies: incident.companies }));
    else ctx.out(`Incident #${id} closed: the ladder acts again for ${incident.companies.length} companies.`);
    return ExitCodes.OK;
  },
};
