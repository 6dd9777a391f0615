/**
 * The incident that must never happen again: a paired company whose real Baileys rc14 socket closes
 * with 500 on every retry for a reason no file can fix (a TLS endpoint with a self-signed
 * certificate, as behind an inspecting proxy). The ladder used to reset it and declare QR required.
 * Here a real worker with the real Baileys driver talks to a loopback `wss://` server with a
 * self-signed certificate (generated with the machine's `openssl`); the supervisor's ladder runs
 * with shortened timings until every step had its chance and it went on reconnecting after its
 * alert. Asserted: no file of the folder lost or changed, never qr_required, exactly one "human
 * needed" alert naming the 500s and the certificate error.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { loadConfig } from "../src/config/load.js";
import { databaseFile } from "../src/home-layout.js";
import { openStore, type Store } from "../src/store/store.js";
import { createBaileysDriver } from "../src/worker/drivers/baileys.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";
import { commandMissing, requirePrerequisite } from "./helpers/prerequisite.js";
import { createTestWorker } from "./helpers/test-worker.js";
import { waitFor } from "./helpers/wait-for.js";

/** A self-signed certificate for 127.0.0.1 from `openssl` (node has no certificate generator). */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "warden-cert-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1"].concat([
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ]),
      { stdio: "ignore" },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A `wss://` server on loopback with a self-signed certificate; counts TLS connection attempts. */
async function listenTls(): Promise<{ url: string; port: number; attempts: () => number }> {
  const server = https.createServer(selfSignedCertificate());
  let attempts = 0;
  server.on("connection", () => attempts++);
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `wss://127.0.0.1:${port}/ws/chat`, port, attempts: () => attempts };
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const digest = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((n) => `${n}:${sha(path.join(dir, n))}`);

describe("a TLS endpoint with a self-signed certificate (close 500 on every retry)", () => {
  it("keeps every file, is never QR required, and sends exactly one human-needed alert naming the 500s and the certificate error", async (ctx) => {
    requirePrerequisite(ctx, commandMissing("openssl", "openssl"));
    const tls = await listenTls();
    const fx = new FleetFixture({
      workers: { heartbeatEvery: "100ms", controlPollEvery: "50ms", leaseTtl: "5s", deadAfter: "10s" },
      driver: "baileys",
      ladder: {
        warnAfter: "100ms",
        reconnectAfter: "200ms",
        reconnectAttempts: 2,
        reconnectBackoff: "150ms",
        settleFor: "300ms",
        maxBackoff: "400ms",
        budget: { max: 10, window: "1h" },
      },
      // The probe reaches the endpoint (TCP): the network is fine, the TLS is not.
      fleet: {
        probe: { host: "127.0.0.1", port: tls.port, every: "100ms", timeout: "1s" },
        checkEvery: "50ms",
      },
      scan: { reconcileEvery: "200ms", debounce: "20ms" },
    });
    cleanups.push(() => fx.cleanup());
    const dir = path.join(fx.sessionsDir, "acme");
    await createPairedFolder(dir);
    fx.setFileCount("acme", 24); // 24 live session files (fresh mtimes), as in the incident
    const before = digest(dir);

    const config = loadConfig(fx.configFile);
    const workerStore: Store = openStore(databaseFile(fx.home));
    const driver = createBaileysDriver({ waWebSocketUrl: tls.url, connectTimeoutMs: 2_000 });
    const worker = createTestWorker({
      config,
      store: workerStore,
      logger: fx.logger(),
      holder: "worker/0/1",
      driver,
    });
    cleanups.push(async () => {
      await worker.close();
      workerStore.close();
    });
    await worker.start();
    const { store, supervisor } = await fx.startSupervisor({ token: null, ladder: true });

    const steps = () => store.ladder.steps("acme").map((s) => s.step);
    // Every step had its chance: warning, the ladder's reconnects, its alert, and reconnects after it.
    await waitFor(() => steps().filter((s) => s === "reconnect").length >= 5, {
      what: "the ladder past its human-needed alert, still reconnecting",
      timeoutMs: 30_000,
    });
    await supervisor.ladder?.idle();

    const closes = store.connections.transitionsOf("acme").filter((t) => t.code !== null);
    expect(closes.length).toBeGreaterThan(3);
    expect(new Set(closes.map((t) => t.code))).toEqual(new Set([500]));
    expect(closes[0]?.message).toContain("self-signed certificate");
    expect(tls.attempts()).toBeGreaterThan(3);

    expect(digest(dir)).toEqual(before);
    expect(store.audit.list("acme")).toEqual([]);
    expect(store.connections.transitionsOf("acme").map((t) => t.to)).not.toContain("qr_required");
    expect(steps()).not.toContain("qr_required");
    expect(steps().filter((s) => s.startsWith("cleanup"))).toEqual([]);

    const human = store.outbox.list().filter((r) => r.kind === "ladder-human_needed");
    expect(human).toHaveLength(1);
    const text = human[0]?.text ?? "";
    expect(text).toMatch(/500 bad session[^\n]* x\d+/);
    expect(text).toContain("self-signed certificate");
    expect(text).toContain("Connectivity probe: passes");
    expect(text).toContain("500 closes are not evidence of broken keys");
    expect(text).not.toMatch(/--new|scan the QR/);
  });
});
