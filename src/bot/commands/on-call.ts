/**
 * On call from Telegram: /ack (and the Ack button), /silence, /silences, /unsilence, /digest. The
 * same store functions as `warden ack|silence|silences|unsilence|digest`, audited as
 * `telegram:<user id>`. A silence of the whole fleet needs a fleet chat and a telegram.admins user.
 */
import { ackIncidents } from "../../alerts/ack.js";
import { escapeHtml } from "../../alerts/format-alert.js";
import { silenceEndsAt } from "../../alerts/silence-window.js";
import { wardenCommand } from "../../cli-invocation.js";
import { assertCompanyFolder } from "../../config/company-id.js";
import { companySettings } from "../../config/load.js";
import { backupsRoot } from "../../home-layout.js";
import { extraCommand } from "../../http/company-findings.js";
import { buildDigest, renderDigestHtml } from "../../http/digest.js";
import { healthReport } from "../../http/health-report.js";
import { silenceEnd } from "../../store/silences.js";
import { knownVisible, mayCommand } from "../authorize.js";
import { type BotCommand, type BotDeps, type CommandOutcome, type Requester, text } from "../bot-context.js";
import { errorReply } from "../error-replies.js";

/** Acks a company's open incidents (or one of them) for a Telegram user. */
export function ackFromTelegram(
  deps: BotDeps,
  req: Requester,
  company: string,
  incident?: number,
): CommandOutcome {
  const acked = ackIncidents(
    deps.store,
    deps.config(),
    company,
    { actor: req.actor, name: req.name ?? req.actor },
    deps.clock.now(),
    incident !== undefined && Number.isInteger(incident) ? incident : undefined,
  );
  deps.kick?.();
  if (acked.length === 0)
    return text(
      `Nothing to ack for <b>${escapeHtml(company)}</b>: no open unacked incident.`,
      "nothing to ack",
    );
  return text(
    `✅ <b>${escapeHtml(company)}</b>: acked ${acked.map((i) => `#${i.id} ${escapeHtml(i.title)}`).join("; ")}`,
    `acked ${acked.map((i) => `#${i.id}`).join(", ")}`,
  );
}

/** /ack <company>. */
export const ackCommand: BotCommand = {
  name: "ack",
  usage: "<company>",
  description: "I have this: stops the reminders and the escalation of its open incidents",
  company: "required",
  maxArgs: 1,
  run: async (deps, req, company) => ackFromTelegram(deps, req, company as string),
};

/** The companies a silence target covers, or why it is refused. */
function silenceTarget(deps: BotDeps, req: Requester, target: string): { company: string | null } | string {
  const config = deps.config();
  if (target === "all") {
    return req.scope.fleet && config.telegram.admins.includes(req.user)
      ? { company: null }
      : "Silencing the whole fleet needs a fleet chat and a telegram.admins user.";
  }
  try {
    assertCompanyFolder(config.sessionsDir, target);
  } catch (err) {
    return escapeHtml(errorReply(err));
  }
  return mayCommand(config, req.scope, req.user, target)
    ? { company: target }
    : `not authorized (your user id: ${req.user})`;
}

/** /silence <company|all> <duration|HH:MM> [reason…]. */
export const silenceCommand: BotCommand = {
  name: "silence",
  usage: "<company|all> <duration|HH:MM> [reason]",
  description: "hold alerts and reminders of a company (or all) for a while; summarised when it ends",
  company: "none",
  maxArgs: 40,
  run: async (deps, req, _company, args) => {
    const [target, when, ...reasonWords] = args;
    if (target === undefined || when === undefined)
      return text("Usage: /silence &lt;company|all&gt; &lt;2h|HH:MM&gt; [reason]", "usage", false);
    const scope = silenceTarget(deps, req, target);
    if (typeof scope === "string") return text(scope, `silence ${target}: refused`, false);
    const now = deps.clock.now();
    const zone = companySettings(deps.config(), scope.company ?? "").maintenance.timezone;
    let endsAt: number;
    try {
      endsAt = silenceEndsAt(/^\d{1,2}:\d{2}$/.test(when) ? { until: when } : { for: when }, now, zone);
    } catch (err) {
      return text(escapeHtml(errorReply(err)), "bad duration", false);
    }
    const reason = reasonWords.join(" ");
    const id = deps.store.silences.add(scope.company, now, endsAt, reason, req.actor, now);
    return text(
      `🔕 Silence #${id}: <b>${escapeHtml(scope.company ?? "every company")}</b> until ${new Date(endsAt).toISOString()}${reason ? ` (${escapeHtml(reason)})` : ""}. The fleet's own failures still page; held alerts are summarised when it ends.`,
      `silence #${id} until ${new Date(endsAt).toISOString()}`,
    );
  },
};

/** /silences. */
export const silencesCommand: BotCommand = {
  name: "silences",
  usage: "",
  description: "the silences in force or planned",
  company: "none",
  maxArgs: 0,
  run: async (deps, req) => {
    const visible = new Set(knownVisible(deps, req));
    const rows = deps.store.silences
      .current(deps.clock.now())
      .filter((s) => s.company === null || visible.has(s.company));
    if (rows.length === 0) return text("No silences.", "silences: none");
    return text(
      rows
        .map(
          (s) =>
            `🔕 #${s.id} <b>${escapeHtml(s.company ?? "every company")}</b> until ${new Date(silenceEnd(s)).toISOString()} by ${escapeHtml(s.actor)}${s.reason ? `: ${escapeHtml(s.reason)}` : ""}`,
        )
        .join("\n"),
      `silences: ${rows.length}`,
    );
  },
};

/** /unsilence <company|all|#id>. */
export const unsilenceCommand: BotCommand = {
  name: "unsilence",
  usage: "<company|all|#id>",
  description: "end silences now (their held alerts are summarised)",
  company: "none",
  maxArgs: 1,
  run: async (deps, req, _company, args) => {
    const target = args[0];
    if (target === undefined) return text("Usage: /unsilence &lt;company|all|#id&gt;", "usage", false);
    const now = deps.clock.now();
    const current = deps.store.silences.current(now);
    const id = /^#?(\d+)$/.exec(target)?.[1];
    const chosen = id
      ? current.filter((s) => s.id === Number(id))
      : current.filter((s) => (target === "all" ? s.company === null : s.company === target));
    for (const s of chosen) {
      const scope = silenceTarget(deps, req, s.company ?? "all");
      if (typeof scope === "string") return text(scope, `unsilence ${target}: refused`, false);
    }
    const ended = deps.store.silences.end(
      chosen.map((s) => s.id),
      req.actor,
      now,
    );
    return text(
      ended > 0 ? `🔔 Ended ${ended} silence(s).` : `No silence of ${escapeHtml(target)} in force.`,
      `unsilence ${target}: ${ended} ended`,
    );
  },
};

/** /digest. */
export const digestCommand: BotCommand = {
  name: "digest",
  usage: "",
  description: "open problems of the companies this chat sees, with the commands that help",
  company: "none",
  maxArgs: 0,
  run: async (deps, req) => {
    const digest = await buildDigest(
      deps.store,
      deps.config(),
      deps.home === undefined ? undefined : backupsRoot(deps.home),
      knownVisible(deps, req),
      deps.clock.now(),
    );
    return text(renderDigestHtml(digest), `digest: ${digest.problems.length} companies with problems`);
  },
};

/** Most recommendations /health lists. */
const HEALTH_RECOMMENDATIONS = 10;

/** /health's recommendations for the companies the requester sees, each with its command. */
export async function recommendationLines(deps: BotDeps, req: Requester): Promise<string[]> {
  const visible = new Set(knownVisible(deps, req));
  const report = await healthReport(
    { store: deps.store, config: deps.config, now: () => deps.clock.now() },
    deps.home === undefined ? undefined : backupsRoot(deps.home),
  );
  const shown = report.recommendations.filter((r) => visible.has(r.company));
  if (shown.length === 0) return ["Recommendations: none"];
  return [
    `<b>Recommendations</b> (${shown.length})`,
    ...shown
      .slice(0, HEALTH_RECOMMENDATIONS)
      .map(
        (r) =>
          `${r.severity === "critical" ? "🔴" : r.severity === "warning" ? "⚠️" : "ℹ️"} ${escapeHtml(r.text)}${extraCommand(r) ? `: <code>${escapeHtml(r.command)}</code>` : ""}`,
      ),
    ...(shown.length > HEALTH_RECOMMENDATIONS
      ? [`… ${shown.length - HEALTH_RECOMMENDATIONS} more: ${wardenCommand("health")}`]
      : []),
  ];
}
