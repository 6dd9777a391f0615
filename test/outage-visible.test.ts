/**
 * A network outage is visible: the alert names the probe target and its error,
 * `warden status` (text and --json `fleet`) shows it, and an operator who sets up Telegram during
 * the outage hears about it. Real probe (TCP to a closed loopback port), real SQLite, the CLI as a
 * child process, the loopback Bot API.
 */
import net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { runCli } from "./helpers/run-cli.js";
import { waitFor } from "./helpers/wait-for.js";

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let fx: FleetFixture;
let api: BotApiServer;
let port: number;

beforeEach(async () => {
  port = await closedPort();
  fx = new FleetFixture({
    telegram: { chatIds: [-1001] },
    fleet: { probe: { host: "127.0.0.1", port, every: "100ms", timeout: "2s" }, checkEvery: "50ms" },
  });
  api = new BotApiServer();
  await api.start();
});

afterEach(async () => {
  await fx.cleanup();
  await api.stop();
});

describe("a network outage", () => {
  it("is named in the alert and in status, and told again to a Telegram set up during it", async () => {
    fx.setFileCount("acme", 3);
    const first = await fx.startSupervisor({ token: null, ladder: true });
    await waitFor(() => first.store.ladder.currentOutage() !== undefined, { what: "outage recorded" });
    const notice = first.store.outbox.list().find((r) => r.kind === "outage");
    expect(notice?.text).toContain(`probe 127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(notice?.text).toContain("🔴");

    const env = { WARDEN_CONFIG: fx.configFile, WARDEN_HOME: fx.home };
    const json = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    expect(json.fleet).toMatchObject({
      state: "offline",
      probe: `127.0.0.1:${port}`,
      lastError: expect.stringContaining("ECONNREFUSED"),
    });
    expect(json.fleet.since).toBeGreaterThan(0);
    const text = (await runCli(["status"], env)).stdout;
    expect(text).toMatch(/^FLEET OFFLINE for .+: connectivity probe to WhatsApp failed/);
    expect(text).toContain(`Connectivity probe to 127.0.0.1:${port} failing: connect ECONNREFUSED`);

    // The operator now configures Telegram and restarts: the outage in progress reaches the chat.
    await fx.stopSupervisor(first.supervisor);
    await fx.startSupervisor({ apiRoot: api.apiRoot, ladder: true });
    await waitFor(() => api.messages.some((m) => m.text.includes("Network outage in progress")), {
      what: "outage told on Telegram",
    });
  });
});
