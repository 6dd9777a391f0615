/**
 * How an operator runs a command here, so every text that suggests one (alerts, bot replies,
 * dashboard, `warden health`, `doctor` fixes) can be pasted as printed.
 *
 * - In a checkout `warden` is not on PATH (package.json's `bin` is only linked by an npm install of
 *   the package) and `npm run warden status --json` hands `--json` to npm: the command is
 *   `npm run warden -- …`. pm2 is not on PATH either: `npx pm2 …` (the one in node_modules).
 * - In the image the Dockerfile links `/usr/local/bin/warden` to `dist/cli/main.js` and removes
 *   `src/`: the command is `warden …`.
 *
 * Which of the two is a fact of the installed tree, not of the environment: this module runs from
 * `<root>/dist/` without a `<root>/src/` only in the image's tree. It is read once from the
 * module's own location (a constant of the install, like its path), so the pure text functions of
 * the ladder and alerts need no extra argument to name a command correctly.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where the CLI runs from: a source checkout (tsx) or the built image. */
export type InstallKind = "checkout" | "image";

/** The commands to suggest for an install and pm2 daemon. */
export interface CliInvocation {
  readonly kind: InstallKind;
  /** `warden <args>` as it runs here. */
  warden(args: string): string;
  /** `pm2 <args>` as it runs here, against the daemon at the given PM2_HOME. */
  pm2(args: string): string;
  /** (Re)starts the pm2 apps with this shell's environment (deletes and starts them again). */
  readonly start: string;
  /** Where `start` is run: "from this shell" in a checkout, "on the Docker host" for the image. */
  readonly startWhere: string;
}

/** What decides the pm2 part: the daemon this shell addresses and the config it uses. */
export interface Pm2Facts {
  pm2Home: string;
  configFile: string;
  /** The user's home (pm2's default PM2_HOME is `<home>/.pm2`). */
  homeDir?: string;
}

/**
 * The install kind of the tree holding `moduleFile`: "image" when it is compiled JS under
 * `<root>/dist/` and `<root>/src/` does not exist (the image's build removes it), else "checkout".
 */
export function installKindOf(
  moduleFile: string,
  exists: (file: string) => boolean = existsSync,
): InstallKind {
  const parts = moduleFile.split(path.sep);
  const dist = parts.lastIndexOf("dist");
  if (dist <= 0 || !moduleFile.endsWith(".js")) return "checkout";
  const root = parts.slice(0, dist).join(path.sep) || path.sep;
  return exists(path.join(root, "src")) ? "checkout" : "image";
}

const quote = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`);

/**
 * The commands for `kind`. With `pm2` facts, a PM2_HOME other than `~/.pm2` is spelled out, and
 * the demo's daemon (PM2_HOME=<demo>/pm2 next to <demo>/config) is restarted by `npm run demo`,
 * never by `npm start`, which would start production.
 */
export function cliInvocation(kind: InstallKind, pm2?: Pm2Facts): CliInvocation {
  const home = pm2?.homeDir ?? os.homedir();
  const prefix =
    pm2 === undefined || pm2.pm2Home === path.join(home, ".pm2") ? "" : `PM2_HOME=${quote(pm2.pm2Home)} `;
  const demo =
    pm2 !== undefined && pm2.configFile === path.join(path.dirname(pm2.pm2Home), "config", "warden.json");
  if (kind === "image")
    return {
      kind,
      warden: (args) => `warden ${args}`,
      pm2: (args) => `${prefix}npx pm2 ${args}`,
      // pm2-runtime is the container's main process and the container's environment is fixed when
      // it is created: a new environment needs a new container.
      start: "docker compose up -d --force-recreate",
      startWhere: "on the Docker host",
    };
  return {
    kind,
    warden: (args) => `npm run warden -- ${args}`,
    pm2: (args) => `${prefix}npx pm2 ${args}`,
    start: demo ? "npm run demo" : `${prefix}npm start`,
    startWhere: "from this shell",
  };
}

let here: CliInvocation | undefined;

/** This install's commands (no pm2 facts: for texts that name only `warden` commands). */
export function thisInstall(): CliInvocation {
  here ??= cliInvocation(installKindOf(fileURLToPath(import.meta.url)));
  return here;
}

/** `warden <args>` as an operator runs it here (`npm run warden -- <args>` in a checkout). */
export function wardenCommand(args: string): string {
  return thisInstall().warden(args);
}
