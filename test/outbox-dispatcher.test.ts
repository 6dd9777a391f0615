import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import type { Notifier } from "../src/alerts/notifiers/notifier.js";
import { OutboxDispatcher } from "../src/alerts/outbox-dispatcher.js";
import { openStore, type Store } from "../src/store/store.js";

let dir: string;
let store: Store;

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

it("closes promptly with a backlog for more chats than the overall rate allows, sending nothing after close", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-outbox-"));
  store = openStore(path.join(dir, "warden.db"));
  const base = {
    company: "acme",
    kind: "level",
    level: "warning",
    channel: "test",
    silent: false,
    payload: {},
  };
  const rows = [];
  for (let chat = 0; chat < 40; chat++) {
    for (let i = 0; i < 5; i++) rows.push({ ...base, target: `chat-${chat}`, html: `m${i}`, text: `m${i}` });
  }
  store.outbox.add(rows, Date.now());
  const sent: string[] = [];
  let closedAt = 0;
  const notifier: Notifier = {
    name: "test",
    async send(message) {
      if (closedAt) throw new Error(`sent ${message.target} after close`);
      sent.push(`${message.target}/${message.text}`);
    },
  };
  const dispatcher = new OutboxDispatcher({
    outbox: store.outbox,
    notifiers: new Map([["test", notifier]]),
    clock: { now: () => Date.now() },
    logger: pino({ level: "silent" }),
  });
  dispatcher.kick();
  expect(await dispatcher.flush(200)).toBe(false);
  const closing = dispatcher.close().then(() => "closed");
  closedAt = Date.now();
  // Before the fix, close() never settled: p-queue drops cleared tasks without settling them.
  expect(await Promise.race([closing, new Promise((r) => setTimeout(() => r("hung"), 10_000))])).toBe(
    "closed",
  );
  const pending = store.outbox.pendingCount();
  expect(sent.length).toBeGreaterThan(0);
  expect(sent.length + pending).toBe(200);
  // Per chat, what went out is a prefix of the queue: order kept.
  for (let chat = 0; chat < 40; chat++) {
    const mine = sent.filter((s) => s.startsWith(`chat-${chat}/`)).map((s) => s.split("/")[1]);
    expect(mine).toEqual(["m0", "m1", "m2", "m3", "m4"].slice(0, mine.length));
  }
});
