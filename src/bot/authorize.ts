/**
 * Who may do what from Telegram, pure (invariant 19). Both the chat and the user must be allowed:
 * the chat decides which companies are visible (src/alerts/chat-routing.ts), the user must be in
 * `telegram.admins` (every company) or in the company's `telegram.operators`. Empty lists allow
 * nobody: the bot fails closed.
 */
import { type ChatScope, chatScope, chatSees } from "../alerts/chat-routing.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { BotDeps, Requester } from "./bot-context.js";

/** True when `user` may command `company` from a chat with this scope. */
export function mayCommand(config: WardenConfig, scope: ChatScope, user: number, company: string): boolean {
  if (!chatSees(scope, company)) return false;
  if (config.telegram.admins.includes(user)) return true;
  return companySettings(config, company).telegram.operators.includes(user);
}

/** The companies (of `known`) the user may see and command from this chat. */
export function visibleCompanies(
  config: WardenConfig,
  scope: ChatScope,
  user: number,
  known: readonly string[],
): string[] {
  return known.filter((company) => mayCommand(config, scope, user, company));
}

/**
 * True when the user may use the bot at all from this chat: an admin in an allowed chat, or an
 * operator of a company the chat sees. Everything else is refused before a command runs.
 */
export function mayUseBot(config: WardenConfig, scope: ChatScope, user: number): boolean {
  if (!scope.fleet && scope.companies.size === 0) return false;
  if (config.telegram.admins.includes(user)) return true;
  const companies = scope.fleet ? [...config.companies.keys()] : [...scope.companies];
  return companies.some((company) => mayCommand(config, scope, user, company));
}

/**
 * True when `user` is allowed for `company` whatever the chat: an admin, or one of its operators.
 * Only such a user may receive its pairing QR (in their private chat, and only when they asked).
 */
export function isAllowedUser(config: WardenConfig, user: number, company: string): boolean {
  return (
    config.telegram.admins.includes(user) ||
    companySettings(config, company).telegram.operators.includes(user)
  );
}

/**
 * What a chat sees for the user who writes in it. A private chat with an allowed user needs no
 * `chatIds` entry: an admin sees the fleet there, an operator the companies they operate.
 */
export function requesterScope(
  config: WardenConfig,
  chat: { id: string; type: string | undefined },
  user: number,
  migrations: ReadonlyMap<string, string>,
): ChatScope {
  const listed = chatScope(config, chat.id, migrations);
  if (chat.type !== "private" || chat.id !== String(user) || listed.fleet) return listed;
  if (config.telegram.admins.includes(user)) return { fleet: true };
  const companies = new Set(listed.companies);
  for (const [company, settings] of config.companies)
    if (settings.telegram.operators.includes(user)) companies.add(company);
  return { fleet: false, companies };
}

/** Who asks, from where: the audit actor, the chat's scope for this user, private or not. */
export function toRequester(
  config: WardenConfig,
  deps: { store: { outbox: { chatMigrations(): ReadonlyMap<string, string> } } },
  chat: { id: string; type: string | undefined },
  user: number,
  name?: string,
): Requester {
  return {
    chat: chat.id,
    user,
    actor: `telegram:${user}`,
    scope: requesterScope(config, chat, user, deps.store.outbox.chatMigrations()),
    private: chat.type === "private" && chat.id === String(user),
    ...(name === undefined ? {} : { name }),
  };
}

/** The companies the requester may see, as the scanner last stored them. */
export function knownVisible(deps: BotDeps, req: Requester): string[] {
  const ids = deps.store.companies.listPresent().map((r) => r.id);
  return visibleCompanies(deps.config(), req.scope, req.user, ids).sort();
}
