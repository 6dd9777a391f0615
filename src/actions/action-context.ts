/**
 * What every action (backup, cleanup, restore, new pairing, remove) acts through, built once per
 * process (the CLI, the bot's and the supervisor's side) by `createActionContext` and passed first,
 * with the company and the actor second: `runCleanup(context, { company, actor })`. The config is
 * read when asked (the supervisor reloads it); WARDEN_HOME is required only by the actions that
 * write under it, with one error (HOME_UNSET) where it is missing.
 */
import type { AuthStoreAccess } from "../auth-store/company-rows.js";
import type { Clock } from "../clock.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";
import { ErrorCodes, WardenError } from "../errors.js";
import { backupsRoot } from "../home-layout.js";
import type { Store } from "../store/store.js";

/** How long an action may hold a company and wait for its worker. */
export interface ActionLimits {
  /** A hold lasts this long without renewal (a crashed action frees the company after it). @default 600000 */
  holdTtlMs: number;
  /** How long to wait for a worker to acknowledge a stop. @default 20000 */
  stopTimeoutMs: number;
}

/** The defaults of ActionLimits. */
export const DEFAULT_ACTION_LIMITS: Readonly<ActionLimits> = {
  holdTtlMs: 10 * 60_000,
  stopTimeoutMs: 20_000,
};

/** The parts an action works with; the same for every action of one process. */
export interface ActionContext {
  readonly store: Store;
  readonly clock: Clock;
  /** The company folders' root, from the config in force. */
  readonly sessionsDir: string;
  /** WARDEN_HOME (restore journals, `replaced/`, `removed/`); throws HOME_UNSET without one. */
  readonly home: string;
  /** WARDEN_HOME/backups; throws HOME_UNSET without WARDEN_HOME. */
  readonly backupsRoot: string;
  /** WARDEN_BACKUP_KEY: backups are sealed with it. */
  readonly backupKey: string | undefined;
  /** A database company's home, passphrase (WARDEN_AUTH_KEY, else WARDEN_BACKUP_KEY) and PostgreSQL URL. */
  readonly authStore: AuthStoreAccess;
  readonly limits: Readonly<ActionLimits>;
  /** A company's settings in the config in force. */
  settings(company: string): CompanySettings;
}

/** Inputs of createActionContext. */
export interface ActionContextInput {
  store: Store;
  clock: Clock;
  /** The config, or a reader of the config in force (a supervisor reloads it). */
  config: WardenConfig | (() => WardenConfig);
  /** WARDEN_HOME; undefined: the actions that need it are refused (HOME_UNSET). */
  home: string | undefined;
  backupKey?: string | undefined;
  /** WARDEN_AUTH_KEY; the database rows' passphrase (default: backupKey). */
  authKey?: string | undefined;
  /** WARDEN_PG_URL: where postgres companies' rows are (none: a postgres company is refused, coded). */
  pgUrl?: string | undefined;
  limits?: Partial<ActionLimits>;
}

/** The context of one process's actions. */
export function createActionContext(input: ActionContextInput): ActionContext {
  const config = typeof input.config === "function" ? input.config : () => input.config as WardenConfig;
  const home = (): string => {
    if (input.home === undefined)
      throw new WardenError(ErrorCodes.HOME_UNSET, "backups are not available: WARDEN_HOME is not set");
    return input.home;
  };
  const limits = Object.freeze({ ...DEFAULT_ACTION_LIMITS, ...input.limits });
  return {
    store: input.store,
    clock: input.clock,
    get sessionsDir() {
      return config().sessionsDir;
    },
    get home() {
      return home();
    },
    get backupsRoot() {
      return backupsRoot(home());
    },
    backupKey: input.backupKey,
    get authStore() {
      return { home: home(), passphrase: input.authKey ?? input.backupKey, pgUrl: input.pgUrl };
    },
    limits,
    settings: (company) => companySettings(config(), company),
  };
}
