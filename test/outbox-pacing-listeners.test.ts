import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import type { Notifier } from "../src/alerts/notifiers/notifier.js";
import { OutboxDispatcher } from "../src/alerts/outbox-dispatcher.js";
import { openStore, type Store } from "../src/store/store.js";
import { chatAlerts } from "./helpers/outbox-rows.js";

let dir: string;
let store: Store;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

afterEach(() => {
  process.off("warning", onWarning);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

it("paced sends to one chat leave no abort listener behind on the shutdown signal (no MaxListeners warning)", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-pacing-"));
  store = openStore(path.join(dir, "warden.db"));
  process.on("warning", onWarning);
  const count = 15;
  const rows = chatAlerts(count);
  store.outbox.add(rows, Date.now());
  const listenersSeen: number[] = [];
  let signal: AbortSignal | undefined;
  const notifier: Notifier = {
    name: "test",
    async send(_message, sendSignal) {
      signal = sendSignal;
      if (sendSignal) listenersSeen.push(getEventListeners(sendSignal, "abort").length);
    },
  };
  const dispatcher = new OutboxDispatcher({
    outbox: store.outbox,
    notifiers: new Map([["test", notifier]]),
    clock: { now: () => Date.now() },
    logger: pino({ level: "silent" }),
    // Every send after the first waits out the per-chat gap: each wait is a paced send.
    perTargetIntervalMs: 2,
  });
  dispatcher.kick();
  expect(await dispatcher.flush(10_000)).toBe(true);
  expect(store.outbox.pendingCount()).toBe(0);
  expect(listenersSeen).toHaveLength(count);
  expect(signal).toBeDefined();
  // Before the fix each paced wait left its listener on the signal: 14 after 15 sends.
  expect(getEventListeners(signal as AbortSignal, "abort")).toHaveLength(0);
  expect(Math.max(...listenersSeen)).toBeLessThanOrEqual(1);
  // The warning is emitted on the next tick after the 11th listener.
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  await dispatcher.close();
});

it("many chats waiting out their gaps at once do not warn: one listener per waiting chat is legitimate", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-pacing-"));
  store = openStore(path.join(dir, "warden.db"));
  process.on("warning", onWarning);
  const rows = Array.from({ length: 30 }, (_, chat) => chatAlerts(3, `chat-${chat}`)).flat();
  store.outbox.add(rows, Date.now());
  let signal: AbortSignal | undefined;
  let most = 0;
  const notifier: Notifier = {
    name: "test",
    async send(_message, sendSignal) {
      signal = sendSignal;
      if (sendSignal) most = Math.max(most, getEventListeners(sendSignal, "abort").length);
    },
  };
  const dispatcher = new OutboxDispatcher({
    outbox: store.outbox,
    notifiers: new Map([["test", notifier]]),
    clock: { now: () => Date.now() },
    logger: pino({ level: "silent" }),
    perTargetIntervalMs: 50,
    globalPerSecond: 1_000,
  });
  dispatcher.kick();
  expect(await dispatcher.flush(10_000)).toBe(true);
  expect(store.outbox.pendingCount()).toBe(0);
  // The waits really overlapped (more than the default 10 listeners at once) ...
  expect(most).toBeGreaterThan(10);
  // ... and all were removed afterwards, with no warning on the way.
  expect(getEventListeners(signal as AbortSignal, "abort")).toHaveLength(0);
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  await dispatcher.close();
});
