/**
 * The context a delivery runs in, shared by `deliver-target.ts` and `deliver-storm.ts` (its own
 * file so neither imports the other for it).
 */
import type PQueue from "p-queue";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { OutboxQueries } from "../store/outbox.js";
import type { GroupSettings } from "./group-alerts.js";
import type { Notifier } from "./notifiers/notifier.js";

/** What delivering to a target needs of the dispatcher: its settings, shared pacing state and wake-up. */
export interface DeliveryContext {
  outbox: OutboxQueries;
  notifiers: ReadonlyMap<string, Notifier>;
  clock: Clock;
  logger: Logger;
  perTargetIntervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Storm grouping for Telegram chats (read at each delivery: config reloads apply). */
  grouping?: () => GroupSettings;
  /** The overall rate cap shared by every target. */
  global: PQueue;
  /** When the last message to each target went out (per-chat pacing). */
  lastSentAt: Map<string, number>;
  /** Channels already warned about having no notifier. */
  warnedChannels: Set<string>;
  /** Aborted when the dispatcher closes: in-flight sends and pacing waits end. */
  signal: AbortSignal;
  /** True once the dispatcher is closing: nothing more is sent. */
  isClosed(): boolean;
  /** Looks again for deliverable rows at `at` (the dispatcher's wake-up). */
  scheduleWake(at: number): void;
}
