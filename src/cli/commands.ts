/**
 * The table of `warden` commands: the overview help lists them in this order. Adding a command is
 * one file exporting a `CommandSpec` (see command.ts) and one entry here.
 */
import { authMigrateCommand } from "./auth-migrate.js";
import type { CommandSpec } from "./command.js";
import { configCheckCommand } from "./config-check.js";
import { controlCommands } from "./control.js";
import { doctorCommandSpec } from "./doctor.js";
import { healthCommandSpec } from "./health.js";
import { auditCommand, historyCommand, stepsCommand } from "./history.js";
import { incidentCommand } from "./incident.js";
import { muteCommand, unmuteCommand } from "./mute.js";
import { onCallCommands } from "./on-call.js";
import { recoveryCommands } from "./recovery-commands.js";
import { statusCommand } from "./status-command.js";
import { testAlertCommandSpec } from "./test-alert.js";

/** Every command, in help order. */
export const COMMANDS: readonly CommandSpec[] = [
  statusCommand,
  historyCommand,
  stepsCommand,
  auditCommand,
  configCheckCommand,
  healthCommandSpec,
  doctorCommandSpec,
  testAlertCommandSpec,
  ...controlCommands,
  muteCommand,
  unmuteCommand,
  ...recoveryCommands,
  ...onCallCommands,
  incidentCommand,
  authMigrateCommand,
];
