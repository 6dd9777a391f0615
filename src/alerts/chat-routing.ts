/**
 * Which Telegram chats see which company, in one place for both directions: the chats an alert goes
 * to, and the companies a chat may see and command (invariant 19). A chat in the global
 * `telegram.chatIds` sees the fleet; a chat listed only in a company's file sees that company only.
 * Groups upgraded to supergroups are followed both ways (chat_migrations: old id -> new id).
 */
import { companySettings, type WardenConfig } from "../config/load.js";

/** What a chat sees: the whole fleet, or some companies (possibly none). */
export type ChatScope = { fleet: true } | { fleet: false; companies: ReadonlySet<string> };

/** The chats a company's alerts go to (or fleet notices, with `company` null), migrations applied. */
export function alertChats(
  config: WardenConfig,
  company: string | null,
  migrations: ReadonlyMap<string, string>,
): string[] {
  const settings = company === null ? config.defaults : companySettings(config, company);
  const targets = new Set(settings.telegram.chatIds.map((id) => migrations.get(String(id)) ?? String(id)));
  return [...targets];
}

/** The companies a chat sees; `chat` is the id Telegram gives in an update. */
export function chatScope(
  config: WardenConfig,
  chat: string,
  migrations: ReadonlyMap<string, string>,
): ChatScope {
  // A supergroup's new id counts as the group id written in the config.
  const names = new Set([chat]);
  for (const [from, to] of migrations) if (to === chat) names.add(from);
  const listed = (ids: readonly (number | string)[]) => ids.some((id) => names.has(String(id)));
  // Escalation chats receive any company's escalation: they see the fleet (users still need
  // telegram.admins or the company's operators, as in every chat).
  if (listed(config.defaults.telegram.chatIds) || listed(config.telegram.escalateTo)) return { fleet: true };
  const companies = new Set<string>();
  for (const [company, settings] of config.companies)
    if (listed(settings.telegram.chatIds)) companies.add(company);
  return { fleet: false, companies };
}

/** True when the chat sees the company. */
export function chatSees(scope: ChatScope, company: string): boolean {
  return scope.fleet || scope.companies.has(company);
}
