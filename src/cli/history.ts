/**
 * `warden history <c>`, `warden audit [c]`, `warden steps <c>`: what the supervisor recorded, read
 * from SQLite, for the questions an operator needed `sqlite3` for. Newest last, `--limit` rows.
 */
import { assertCompanyId } from "../config/company-id.js";
import { parseDuration } from "../config/duration.js";
import { ExitCodes } from "../errors.js";
import { currentStepResult } from "../http/fleet-view.js";
import { AUDIT_PAGE_MAX } from "../store/audit.js";
import type { CliContext, CommandOption, CommandSpec } from "./command.js";
import { usageError } from "./command.js";

const LIMIT: CommandOption = {
  type: "string",
  value: "N",
  description: "at most N rows, the newest (default 50)",
};

function limitOf(spec: CommandSpec, value: unknown): number {
  if (value === undefined) return 50;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw usageError(`--limit takes a whole number >= 1, got ${JSON.stringify(value)}`, spec);
  return n;
}

/** Ladder steps that belong to liveness (deaf, restricted, fleet holds). */
const LIVENESS_STEP = /^(alert:(deaf|restricted)|reconnect:deaf|recreate:deaf|hold:(deaf|fleet))/;

const iso = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Nothing recorded yet (no database): say so instead of creating one. */
function noDatabase(ctx: CliContext): number {
  if (ctx.json) ctx.out(JSON.stringify({ rows: [] }));
  else ctx.out(`No database yet in ${ctx.env.home} (the supervisor has not run here).`);
  return ExitCodes.OK;
}

/** `warden history <company>`. */
export const historyCommand: CommandSpec = {
  name: "history",
  argsUsage: "<company>",
  summary: "count history (points where the counts changed) and connection transitions",
  options: {
    since: { type: "string", value: "D", description: 'how far back (default "7d")' },
    limit: LIMIT,
  },
  args: { min: 1, max: 1 },
  async run(ctx, { args, options }) {
    const company = assertCompanyId(args[0] as string);
    const since = options.since === undefined ? 7 * 86_400_000 : parseDuration(options.since as string);
    if (since === undefined)
      throw usageError(`--since takes a duration like "7d", got ${JSON.stringify(options.since)}`, this);
    const limit = limitOf(this, options.limit);
    const store = ctx.store({ ifExists: true });
    if (!store) return noDatabase(ctx);
    const from = ctx.now() - since;
    const counts = store.companies.history(company, from).slice(-limit);
    const transitions = store.connections
      .transitionsOf(company)
      .filter((t) => t.at >= from)
      .slice(-limit);
    // Liveness: deaf / restricted episodes and what the ladder did about them, from its steps.
    const liveness = store.ladder
      .steps(company)
      .filter((st) => st.at >= from && LIVENESS_STEP.test(st.step))
      .slice(-limit);
    if (ctx.json) {
      ctx.out(JSON.stringify({ company, since: iso(from), counts, transitions, liveness }));
      return ExitCodes.OK;
    }
    const events = [
      ...counts.map((c) => ({ at: c.at, text: `count    total ${c.total}, counted ${c.counted}` })),
      ...transitions.map((t) => ({
        at: t.at,
        text: `conn     ${t.from ?? "-"} -> ${t.to}${t.code === null ? "" : ` (${t.code})`}${t.message ? `: ${t.message}` : ""}`,
      })),
      ...liveness.map((st) => ({ at: st.at, text: `liveness ${st.step}: ${st.reason}` })),
    ].sort((a, b) => a.at - b.at);
    if (events.length === 0) ctx.out(`${company}: nothing recorded since ${iso(from)}`);
    for (const e of events) ctx.out(`${iso(e.at)}  ${e.text}`);
    return ExitCodes.OK;
  },
};

/** `warden audit [company]`. */
export const auditCommand: CommandSpec = {
  name: "audit",
  argsUsage: "[company]",
  summary: "the audit log: cleanups, backups, restores, resets, mutes (who, what, outcome)",
  details: `Pages: the newest rows first come last; --before <id> shows the page before that row (at most ${AUDIT_PAGE_MAX} rows a page).`,
  options: {
    limit: LIMIT,
    before: { type: "string", value: "ID", description: "only rows older than audit row ID (the next page)" },
  },
  args: { min: 0, max: 1 },
  async run(ctx, { args, options }) {
    const company = args[0] === undefined ? undefined : assertCompanyId(args[0]);
    const limit = Math.min(limitOf(this, options.limit), AUDIT_PAGE_MAX);
    const before = options.before === undefined ? undefined : Number(options.before);
    if (before !== undefined && (!Number.isInteger(before) || before < 1))
      throw usageError(`--before takes an audit row id, got ${JSON.stringify(options.before)}`, this);
    const store = ctx.store({ ifExists: true });
    if (!store) return noDatabase(ctx);
    const rows = store.audit.list(company, { limit, ...(before !== undefined ? { before } : {}) });
    const older = rows.length === limit ? rows[0]?.id : undefined;
    if (ctx.json) {
      ctx.out(JSON.stringify({ rows, ...(older !== undefined ? { nextBefore: older } : {}) }));
      return ExitCodes.OK;
    }
    if (rows.length === 0) ctx.out(company ? `${company}: no audit rows` : "No audit rows");
    for (const r of rows)
      ctx.out(
        `${iso(r.at)}  #${r.id}  ${r.ok ? "ok  " : "FAIL"}  ${r.company}  ${r.action}  by ${r.actor}: ${r.result}`,
      );
    if (older !== undefined)
      ctx.out(`Older rows: warden audit${company ? ` ${company}` : ""} --before ${older}`);
    return ExitCodes.OK;
  },
};

/** `warden steps <company>`. */
export const stepsCommand: CommandSpec = {
  name: "steps",
  argsUsage: "<company>",
  summary: "the recovery ladder's steps for a company (what, why, result)",
  options: { limit: LIMIT },
  args: { min: 1, max: 1 },
  async run(ctx, { args, options }) {
    const company = assertCompanyId(args[0] as string);
    const limit = limitOf(this, options.limit);
    const store = ctx.store({ ifExists: true });
    if (!store) return noDatabase(ctx);
    const rows = store.ladder
      .steps(company)
      .slice(-limit)
      .map((s) => ({ ...s, result: currentStepResult(store, company, s) }));
    if (ctx.json) {
      ctx.out(JSON.stringify({ company, steps: rows }));
      return ExitCodes.OK;
    }
    if (rows.length === 0) ctx.out(`${company}: the ladder took no steps`);
    for (const s of rows) ctx.out(`${iso(s.at)}  ${s.step}  ${s.reason}  -> ${s.result}`);
    return ExitCodes.OK;
  },
};
