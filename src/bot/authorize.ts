/**
 * Who may do what from Telegram (issue 12), pure. Both the chat and the user must be allowed:
 * the chat decides which companies are visible (src/alerts/chat-routing.ts), the user must be in
 * `telegram.admins` (every company) or in the company's `telegram.operators`. Empty lists allow
 * nobody: the bot fails closed.
 */
import { type ChatScope, chatSees } from "../alerts/chat-routing.js";
import { companySettings, type WardenConfig } from "../config/load.js";

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
