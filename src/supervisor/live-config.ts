/**
 * The supervisor's config in force, and how edits reach it: a good edit applies at once (thresholds,
 * chats, timers on their next run) and the counts are computed again; `sessionsDir` and `http.listen`
 * need a restart. A rejected edit keeps the last good config; a broken spell pages once ("Config edit
 * rejected") and the next good edit closes it ("Config OK again").
 */

import { wardenCommand } from "../cli-invocation.js";
import type { Clock } from "../clock.js";
import type { WardenConfig } from "../config/load.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { AlertQueue } from "./alert-queue.js";

/** What the live config needs. */
export interface LiveConfigOptions {
  initial: WardenConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  alerts: AlertQueue;
  /** Starts delivery of what was queued. */
  kick: () => void;
  /** Computes counts and alerts again (a full scan). */
  rescan: () => void;
}

/** The config in force and its edits. */
export interface LiveConfig {
  /** The config in force. */
  current(): WardenConfig;
  /** Applies a new config: thresholds and chats at once, counts re-evaluated. sessionsDir needs a restart. */
  apply(next: WardenConfig): void;
  /** Records and reports a config edit that did not validate (the last good config stays). */
  reject(message: string): void;
}

/** Creates the live config, starting with `initial`. */
export function createLiveConfig(options: LiveConfigOptions): LiveConfig {
  const { store, clock, logger: log, alerts, kick } = options;
  let config = options.initial;
  /** A config edit was rejected and no good edit followed yet (one alert per broken spell). */
  let rejected = false;

  return {
    current: () => config,

    apply(next) {
      if (next.sessionsDir !== config.sessionsDir) {
        log.warn(
          { from: config.sessionsDir, to: next.sessionsDir },
          "sessionsDir changed: restart the supervisor for it to take effect; other settings applied",
        );
        next = { ...next, sessionsDir: config.sessionsDir };
      }
      if (next.http.listen !== config.http.listen)
        log.warn(
          { from: config.http.listen, to: next.http.listen },
          "http.listen changed: restart the supervisor for it to take effect",
        );
      config = next;
      log.info({ file: next.file }, "Configuration reloaded");
      if (rejected) {
        rejected = false;
        alerts.notice("Config OK again", `${next.file} is valid again and in force.`, {
          kind: "config-ok",
          level: "ok",
        });
        kick();
      }
      options.rescan();
    },

    reject(message) {
      log.error({ kind: "config-invalid" }, `Config edit rejected, keeping the last good config: ${message}`);
      const now = clock.now();
      // Several saves while fixing the file are one incident: the first one pages, "Config OK again"
      // closes it; the rest are in the log and the events table.
      const first = !rejected;
      rejected = true;
      store.transaction(() => {
        store.events.add(now, "supervisor", "config-invalid", message);
        if (first)
          alerts.notice(
            "Config edit rejected",
            `Keeping the last good config until the file is fixed. ${message} (check it with \`${wardenCommand(`config check`)}\`)`,
            { kind: "config-invalid", level: "warning" },
          );
      });
      if (first) kick();
    },
  };
}
