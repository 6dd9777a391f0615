import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";
import { createBaileysDriver } from "../src/worker/drivers/baileys.js";
import type { DriverHooks } from "../src/worker/drivers/driver.js";
import { waitFor } from "./helpers/wait-for.js";

// The real Baileys socket, pointed with `waWebSocketUrl` at a WebSocket server on 127.0.0.1
// (WhatsApp's servers cannot exist here). Observed with baileys 7.0.0-rc14: a server that closes
// after the client hello gives 428 (connectionClosed); a refused connection gives 408.

let dir: string;
let server: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function recorder() {
  const events: string[] = [];
  const closes: { code: number | undefined; message: string }[] = [];
  const hooks: DriverHooks = {
    onOpen: () => events.push("open"),
    onClose: (code, message) => {
      events.push(`close:${code}`);
      closes.push({ code, message });
    },
    onQr: () => events.push("qr"),
    onPairingCode: () => events.push("code"),
  };
  return { events, closes, hooks };
}

async function listen(onConnection: (ws: import("ws").WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server = wss;
  wss.on("connection", onConnection);
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/chat`;
}

const logger = pino({ level: "silent" });

describe("Baileys driver against a loopback WebSocket server", () => {
  it("reports 428 when the server closes after the client hello, and leaves creds.json intact", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "warden-baileys-"));
    let connections = 0;
    let hello = 0;
    const url = await listen((ws) => {
      connections++;
      ws.on("message", () => {
        hello++;
        ws.close();
      });
    });
    // A folder with a creds.json already (written by our atomic auth state).
    const folder = path.join(dir, "acme");
    const auth = await useAtomicMultiFileAuthState(folder);
    await auth.saveCreds();
    const before = readFileSync(path.join(folder, "creds.json"));
    const rec = recorder();
    const socket = await createBaileysDriver({ waWebSocketUrl: url }).connect({
      company: "acme",
      dir: path.join(dir, "acme"),
      logger,
      hooks: rec.hooks,
    });
    await waitFor(() => rec.closes.length === 1, { what: "close" });
    expect(hello).toBeGreaterThan(0);
    expect(rec.closes[0]?.code).toBe(428);
    await socket.close();
    expect(rec.events).toEqual(["close:428"]);
    expect(connections).toBe(1);
    expect(readFileSync(path.join(folder, "creds.json")).equals(before)).toBe(true);
  });

  it("reports 408 when the connection is refused", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "warden-baileys-"));
    const port = await (async () => {
      const url = await listen(() => undefined);
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
      return new URL(url).port;
    })();
    const rec = recorder();
    const socket = await createBaileysDriver({ waWebSocketUrl: `ws://127.0.0.1:${port}/ws/chat` }).connect({
      company: "acme",
      dir: path.join(dir, "acme"),
      logger,
      hooks: rec.hooks,
    });
    await waitFor(() => rec.closes.length === 1, { what: "close" });
    expect(rec.closes[0]?.code).toBe(408);
    await socket.close();
    expect(rec.events).toEqual(["close:408"]);
  });

  it("close() on a live socket resolves without a close event and opens nothing else", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "warden-baileys-"));
    let connections = 0;
    let closedByClient = false;
    const url = await listen((ws) => {
      connections++;
      ws.on("close", () => {
        closedByClient = true;
      });
    });
    const rec = recorder();
    const socket = await createBaileysDriver({ waWebSocketUrl: url, connectTimeoutMs: 60_000 }).connect({
      company: "acme",
      dir: path.join(dir, "acme"),
      logger,
      hooks: rec.hooks,
    });
    await waitFor(() => connections === 1, { what: "connection" });
    await socket.close();
    await socket.close();
    await waitFor(() => closedByClient, { what: "client closed the websocket" });
    expect(rec.events).toEqual([]);
    expect(connections).toBe(1);
  });
});
