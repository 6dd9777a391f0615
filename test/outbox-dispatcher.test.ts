import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { createLogNotifier } from "../src/alerts/notifiers/log.js";
import type { Notifier } from "../src/alerts/notifiers/notifier.js";
import { OutboxDispatcher } from "../src/alerts/outbox-dispatcher.js";
import { openStore, type Store } from "../src/store/store.js";
import { waitFor } from "./helpers/wait-for.js";

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

it("delivers a 1,000-alert storm to the log without pacing while a paced chat keeps its gap", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-outbox-"));
  store = openStore(path.join(dir, "warden.db"));
  // A fake clock that never moves: whatever went out went out within 0 ms of fake time.
  const now = 1_800_000_000_000;
  const base = { company: "acme", kind: "level", level: "warning", silent: false, payload: {} };
  const rows = [];
  for (let i = 0; i < 1_000; i++)
    rows.push({ ...base, company: `c${i}`, channel: "log", target: "log", html: `a${i}`, text: `a${i}` });
  for (let i = 0; i < 3; i++)
    rows.push({ ...base, channel: "test", target: "chat", html: `t${i}`, text: `t${i}` });
  store.outbox.add(rows, now);
  const lines: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const paced: string[] = [];
  const dispatcher = new OutboxDispatcher({
    outbox: store.outbox,
    notifiers: new Map<string, Notifier>([
      ["log", createLogNotifier(pino({ level: "info" }, sink))],
      ["test", { name: "test", paced: true, send: async (m) => void paced.push(m.text) }],
    ]),
    clock: { now: () => now },
    logger: pino({ level: "silent" }),
    // A gap no test waits out: the paced chat gets its first message and then waits.
    perTargetIntervalMs: 3_600_000,
  });
  try {
    dispatcher.kick();
    await waitFor(() => store.outbox.pendingCount() === 2, { what: "the storm out, 2 paced rows left" });
    const alerts = lines.map((l) => JSON.parse(l) as { alert?: unknown; msg: string }).filter((l) => l.alert);
    expect(alerts.map((l) => l.msg)).toEqual(Array.from({ length: 1_000 }, (_, i) => `a${i}`));
    expect(paced).toEqual(["t0"]);
  } finally {
    await dispatcher.close();
  }
});

it("leaves the rows of a channel without a notifier pending, warns once, and does not spin", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-outbox-"));
  store = openStore(path.join(dir, "warden.db"));
  const row = {
    company: "acme",
    kind: "level",
    level: "warning",
    silent: false,
    payload: {},
    html: "m",
    text: "m",
  };
  store.outbox.add([{ ...row, channel: "telegram", target: "-1001" }], Date.now());
  // Counts the dispatcher's passes over the outbox. Before the fix, a target without a notifier
  // ended its delivery at once and kicked a new pass: a loop of promises that held the event loop
  // (timers never fired). Past 1,000 passes the read throws, which the dispatcher answers by
  // waiting 5 s: the loop breaks and the count below fails instead of hanging the test.
  let passes = 0;
  const outbox = Object.create(store.outbox) as Store["outbox"];
  outbox.pendingTargets = () => {
    if (++passes > 1_000) throw new Error("the dispatcher spins");
    return store.outbox.pendingTargets();
  };
  const logged: string[] = [];
  const logger = pino(
    { level: "warn" },
    { write: (line: string) => logged.push(String(JSON.parse(line).msg)) },
  );
  const dispatcher = new OutboxDispatcher({
    outbox,
    notifiers: new Map(),
    clock: { now: () => Date.now() },
    logger,
  });
  dispatcher.kick();
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  dispatcher.kick();
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await dispatcher.close();
  expect(passes).toBe(2); // one per kick
  expect(store.outbox.pendingCount()).toBe(1);
  expect(logged).toEqual([
    "Undelivered telegram alerts are waiting in the outbox but no telegram notifier is configured (set TELEGRAM_BOT_TOKEN)",
  ]);
});
