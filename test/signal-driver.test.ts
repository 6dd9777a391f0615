/**
 * The real Baileys driver with signals wired as the worker's entry file wires them: the socket is
 * opened inside the console guard's scope, so a libsignal console line written from the socket's
 * own callbacks (here: from the close event a loopback server causes) is the company's, counted
 * and kept out of the output; the same line from elsewhere passes through.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { installConsoleGuard } from "../src/signals/console-guard.js";
import { createSignalRecorder } from "../src/signals/signal-recorder.js";
import { openStore } from "../src/store/store.js";
import { createBaileysDriver } from "../src/worker/drivers/baileys.js";
import { waitFor } from "./helpers/wait-for.js";

let dir: string | undefined;
let wss: WebSocketServer | undefined;
afterEach(async () => {
  const server = wss;
  wss = undefined;
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("libsignal console lines from a company's socket callbacks are counted for it and swallowed", async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-signal-driver-"));
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss = server;
  server.on("connection", (ws) => ws.on("message", () => ws.close()));
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat`;

  mkdirSync(path.join(dir, "acme")); // a session never creates its company folder
  const store = openStore(path.join(dir, "warden.db"));
  const logger = pino({ level: "silent" });
  const signals = createSignalRecorder({ signals: store.signals, clock: { now: () => Date.now() }, logger });
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error };
  const printed: string[] = [];
  for (const m of ["log", "info", "warn", "error"] as const)
    console[m] = (...args: unknown[]) => void printed.push(String(args[0]));
  const guard = installConsoleGuard(signals);
  const closes: (number | undefined)[] = [];
  let unscoped = 0;
  try {
    const driver = createBaileysDriver({ waWebSocketUrl: url, signals, within: guard.within });
    const socket = await driver.connect({
      company: "acme",
      dir: path.join(dir, "acme"),
      logger,
      hooks: {
        onOpen: () => undefined,
        onQr: () => undefined,
        onPairingCode: () => undefined,
        onClose: (code) => {
          // Runs inside Baileys' end(), from the WebSocket's close event.
          console.warn("Closing open session in favor of incoming prekey bundle");
          console.info("Closing session:", { privKey: "secret" });
          closes.push(code);
        },
      },
    });
    await waitFor(() => closes.length > 0, { what: "the 428 close" });
    console.info("Closing session:", { outside: true });
    await socket.close();
    unscoped = guard.unscopedSuppressed;
  } finally {
    guard.close();
    Object.assign(console, saved);
  }
  signals.flush();
  expect(closes).toEqual([428]);
  // The dump outside any company's scope is swallowed too (fail closed: it holds private keys),
  // counted as unscoped rather than for acme.
  expect(printed).toEqual([]);
  expect(unscoped).toBe(1);
  expect(store.signals.window("acme", 0, Date.now()).byKind).toEqual({
    "session-churn": { "incoming prekey bundle": 1 },
  });
  store.close();
});
