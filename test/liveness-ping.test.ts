/**
 * The liveness question against a real rc14 socket: the Baileys driver logs in to a loopback
 * WhatsApp server (test/helpers/wa-loopback-server.ts), then asks the iq ping (xmlns w:p) the
 * detector relies on. Answered: a round trip in ms (measured on this machine: a few ms on
 * loopback). Not answered: null after the timeout, which the detector turns into "deaf at once".
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { detectDeaf } from "../src/liveness/detect-deaf.js";
import type { TrafficEvent } from "../src/liveness/liveness-recorder.js";
import { createBaileysDriver } from "../src/worker/drivers/baileys.js";
import type { DriverSocket } from "../src/worker/drivers/driver.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { type LoopbackServer, startLoopbackWhatsApp } from "./helpers/wa-loopback-server.js";
import { waitFor } from "./helpers/wait-for.js";

let dir: string | undefined;
let server: LoopbackServer | undefined;
let socket: DriverSocket | undefined;
afterEach(async () => {
  await socket?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  socket = undefined;
  server = undefined;
  dir = undefined;
});

async function openSocket(answerPings: boolean) {
  server = await startLoopbackWhatsApp({ answerPings });
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-ping-"));
  const folder = path.join(dir, "acme");
  await createPairedFolder(folder);
  const events: TrafficEvent[] = [];
  let opened = false;
  const driver = createBaileysDriver({ waWebSocketUrl: server.url, connectTimeoutMs: 5_000 });
  socket = await driver.connect({
    company: "acme",
    dir: folder,
    logger: pino({ level: "silent" }),
    hooks: {
      onOpen: () => {
        opened = true;
      },
      onClose: () => undefined,
      onQr: () => undefined,
      onPairingCode: () => undefined,
      onTraffic: (e) => events.push(e),
    },
  });
  await waitFor(() => opened, { what: "connection: open from the loopback server", timeoutMs: 15_000 });
  return { events, socket };
}

const SETTINGS = { silentAfter: 30 * 60_000, gapFactor: 3, queryTimeout: 1_000 };

describe("the liveness ping on a real rc14 socket", () => {
  it("answered: a round trip in ms, and the socket's frames are counted", async () => {
    const { events, socket: s } = await openSocket(true);
    const rtt = await s.ping?.(2_000);
    expect(rtt).toBeTypeOf("number");
    expect(rtt).toBeLessThan(2_000);
    expect(server?.pings).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.kind === "frame")).toBe(true);
    const now = Date.now();
    const verdict = detectDeaf(
      {
        openedAt: now - 60 * 60_000,
        lastInboundAt: now - 60 * 60_000,
        hadInbound: true,
        usualGapMs: null,
        settings: SETTINGS,
        lastPing: { at: now, rttMs: rtt ?? null },
      },
      now,
    );
    expect(verdict.state).toBe("deaf");
    expect(verdict.reason).toContain("answers pings");
  }, 30_000);

  it("not answered: null after the timeout, which makes the company deaf at once", async () => {
    const { socket: s } = await openSocket(false);
    const started = Date.now();
    const rtt = await s.ping?.(1_000);
    expect(rtt).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const now = Date.now();
    const verdict = detectDeaf(
      {
        openedAt: now - 60_000,
        lastInboundAt: now - 60_000,
        hadInbound: true,
        usualGapMs: null,
        settings: SETTINGS,
        lastPing: { at: now, rttMs: null },
      },
      now,
    );
    expect(verdict).toMatchObject({ state: "deaf", reason: "WhatsApp did not answer a ping within 1 s" });
  }, 30_000);
});
