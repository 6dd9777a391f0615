import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { type AuthenticationCreds, BufferJSON, Curve, NOISE_WA_HEADER } from "baileys";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { ATOMIC_TMP_PREFIX, useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";
import { createBaileysDriver } from "../src/worker/drivers/baileys.js";
import type { DriverHooks, DriverSocket } from "../src/worker/drivers/driver.js";
import { digestSync } from "./helpers/folder-digest.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { waitFor } from "./helpers/wait-for.js";

// The real Baileys socket (7.0.0-rc14), pointed with `waWebSocketUrl` at a WebSocket server on
// 127.0.0.1: WhatsApp's servers cannot be reached here, and a loopback server decides exactly how
// the connection ends. Observed on this machine (2 CPUs, idle):
// - server closes right after the client hello: onClose(428, "Connection Terminated") ~50 ms after
//   connect; nothing is written to a fresh folder (Baileys saves creds only on creds.update);
// - connection refused: onClose(408, "WebSocket Error (connect ECONNREFUSED 127.0.0.1:<port>)"),
//   a few ms after connect;
// - WebSocket open, hello never answered: onClose(408, "Timed Out") after connectTimeoutMs;
// - close() on a live socket: ~2 ms, no hook fires, the server sees a normal close frame;
// - close() when the server stopped reading: ws alone waits 30 s (its close timeout, measured
//   30,003 ms); the driver drops the TCP connection after closeTimeoutMs instead.

let dir: string | undefined;
let server: WebSocketServer | undefined;
const sockets: DriverSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.close();
  const wss = server;
  server = undefined;
  if (wss) {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** An empty company folder (the driver never creates one: a removed folder stays removed). */
function companyDir(): string {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-baileys-"));
  mkdirSync(path.join(dir, "acme"));
  return path.join(dir, "acme");
}

/** Hooks that record every call, in order. */
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

/** A loopback WebSocket server counting connections; `onConnection` decides what it does. */
async function listen(onConnection: (ws: WebSocket) => void) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server = wss;
  const seen = { connections: 0, closed: 0 };
  wss.on("connection", (ws) => {
    seen.connections++;
    ws.on("close", () => seen.closed++);
    onConnection(ws);
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/chat`, seen };
}

const logger = pino({ level: "silent" });

async function connect(
  url: string,
  folder: string,
  hooks: DriverHooks,
  options: { connectTimeoutMs?: number; closeTimeoutMs?: number } = {},
): Promise<DriverSocket> {
  const socket = await createBaileysDriver({ waWebSocketUrl: url, ...options }).connect({
    company: "acme",
    dir: folder,
    logger,
    hooks,
  });
  sockets.push(socket);
  return socket;
}

function expectCredsParse(folder: string): void {
  const creds = JSON.parse(
    readFileSync(path.join(folder, "creds.json"), "utf8"),
    BufferJSON.reviver,
  ) as AuthenticationCreds;
  expect(Buffer.isBuffer(creds.noiseKey.private)).toBe(true);
  expect(Buffer.isBuffer(creds.signedIdentityKey.private)).toBe(true);
  expect(Buffer.isBuffer(creds.signedPreKey.signature)).toBe(true);
  expect(typeof creds.registrationId).toBe("number");
}

describe("Baileys driver against a loopback WebSocket server", () => {
  it("reports 428 once when the server closes after the client hello, and opens nothing else", async () => {
    const folder = companyDir();
    const hellos: Buffer[] = [];
    const { url, seen } = await listen((ws) => {
      ws.on("message", (data: Buffer) => {
        hellos.push(data);
        ws.close();
      });
    });
    const rec = recorder();
    const socket = await connect(url, folder, rec.hooks);
    await waitFor(() => rec.closes.length > 0, { what: "onClose" });
    // What reached the server is Baileys' Noise hello ("WA" + version header).
    expect(hellos[0]?.subarray(0, 4).equals(NOISE_WA_HEADER)).toBe(true);
    expect(rec.closes).toEqual([{ code: 428, message: "Connection Terminated" }]);
    await socket.close();
    await waitFor(() => seen.closed === 1, { what: "server saw the connection end" });
    expect(rec.events).toEqual(["close:428"]);
    expect(seen.connections).toBe(1);
    // A fresh folder: Baileys keeps its new creds in memory until a creds.update; nothing torn.
    expect(readdirSync(folder)).toEqual([]);
  });

  it("reports 408 when the connection is refused", async () => {
    const folder = companyDir();
    const { url } = await listen(() => undefined);
    const wss = server;
    server = undefined;
    await new Promise<void>((resolve) => wss?.close(() => resolve()));
    const rec = recorder();
    const socket = await connect(url, folder, rec.hooks);
    await waitFor(() => rec.closes.length > 0, { what: "onClose" });
    expect(rec.closes[0]?.code).toBe(408);
    expect(rec.closes[0]?.message).toMatch(/ECONNREFUSED/);
    await socket.close();
    expect(rec.events).toEqual(["close:408"]);
  });

  it("reports 408 when the server never answers the hello (connectTimeoutMs)", async () => {
    const folder = companyDir();
    const { url, seen } = await listen(() => undefined);
    const rec = recorder();
    const started = Date.now();
    await connect(url, folder, rec.hooks, { connectTimeoutMs: 400 });
    await waitFor(() => rec.closes.length > 0, { what: "onClose" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(rec.closes).toEqual([{ code: 408, message: "Timed Out" }]);
    expect(seen.connections).toBe(1);
  });

  it("leaves a paired folder's creds.json and keys byte-identical and parseable after close", async () => {
    const folder = companyDir();
    await createPairedFolder(folder);
    const auth = await useAtomicMultiFileAuthState(folder);
    await auth.state.keys.set({ "pre-key": { "1": Curve.generateKeyPair(), "2": Curve.generateKeyPair() } });
    const before = digestSync(folder);
    expect([...before.keys()].sort()).toEqual(["creds.json", "pre-key-1.json", "pre-key-2.json"]);

    // Once closed by the server (428), once closed by us while live.
    const closing = await listen((ws) => ws.on("message", () => ws.close()));
    const first = recorder();
    const socket1 = await connect(closing.url, folder, first.hooks);
    await waitFor(() => first.closes.length > 0, { what: "onClose" });
    expect(first.closes[0]?.code).toBe(428);
    await socket1.close();
    expect(digestSync(folder)).toEqual(before);

    const frames: Buffer[] = [];
    const live = await listen((ws) => ws.on("message", (data: Buffer) => frames.push(data)));
    const second = recorder();
    const socket2 = await connect(live.url, folder, second.hooks, { connectTimeoutMs: 60_000 });
    await waitFor(() => frames.length === 1, { what: "hello" });
    await socket2.close();
    await waitFor(() => live.seen.closed === 1, { what: "server saw the close" });
    expect(second.events).toEqual([]);
    // Only the hello: a logout would have sent a remove-companion-device iq before closing.
    expect(frames.length).toBe(1);
    expect(digestSync(folder)).toEqual(before);
    expectCredsParse(folder);
    expect(readdirSync(folder).some((n) => n.startsWith(ATOMIC_TMP_PREFIX))).toBe(false);
  });

  it("close() on a live socket resolves, fires no hook, is idempotent and opens nothing else", async () => {
    const folder = companyDir();
    const serverSaw: number[] = [];
    const { url, seen } = await listen((ws) => ws.on("close", (code) => serverSaw.push(code)));
    const rec = recorder();
    // A generous close timeout: on a loaded machine the close handshake can take longer than the
    // default 2 s, and the driver would then drop the connection (1006) instead of closing it.
    const socket = await connect(url, folder, rec.hooks, {
      connectTimeoutMs: 60_000,
      closeTimeoutMs: 30_000,
    });
    await waitFor(() => seen.connections === 1, { what: "connection" });
    const a = socket.close();
    const b = socket.close();
    expect(b).toBe(a);
    await a;
    await socket.close();
    await waitFor(() => serverSaw.length === 1, { what: "server saw the close" });
    // ws' close() without a code: 1005 "no status", a clean close frame, not a dropped connection.
    expect(serverSaw).toEqual([1005]);
    expect(rec.events).toEqual([]);
    expect(seen.connections).toBe(1);
  });

  it("close() while the WebSocket is still connecting resolves and fires no hook", async () => {
    const folder = companyDir();
    const { url, seen } = await listen(() => undefined);
    const rec = recorder();
    const socket = await connect(url, folder, rec.hooks, { connectTimeoutMs: 60_000 });
    await socket.close();
    expect(rec.events).toEqual([]);
    expect(seen.connections).toBeLessThanOrEqual(1);
  });

  it("close() drops the connection after closeTimeoutMs when the server stopped reading", async () => {
    const folder = companyDir();
    let tcp: Socket | undefined;
    const { url, seen } = await listen((ws) => {
      ws.on("message", () => {
        // A dead network as seen from the client: nothing it sends is read or answered.
        tcp = (ws as unknown as { _socket: Socket })._socket;
        tcp.pause();
      });
    });
    const rec = recorder();
    const socket = await connect(url, folder, rec.hooks, { connectTimeoutMs: 60_000, closeTimeoutMs: 300 });
    await waitFor(() => tcp !== undefined, { what: "hello received" });
    const started = Date.now();
    await socket.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5_000);
    // The client's TCP connection is gone: the server side sees it end once it reads again.
    tcp?.resume();
    await waitFor(() => seen.closed === 1, { what: "server saw the connection end" });
    expect(rec.events).toEqual([]);
    expect(seen.connections).toBe(1);
  });
});
