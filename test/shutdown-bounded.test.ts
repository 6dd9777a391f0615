/**
 * A stopping supervisor waits at most its flush time (WARDEN_FLUSH_MS) for alerts,
 * even when the Bot API accepts the request and never answers. Before, shutdown lasted the HTTP
 * client's 30 s timeout, past pm2's kill_timeout (15 s). The cancelled alert stays pending: it goes
 * out after the restart, never lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

let fx: FleetFixture | undefined;
let api: BotApiServer | undefined;
afterEach(async () => {
  await fx?.cleanup();
  await api?.stop();
});

describe("shutdown with a hung Bot API", () => {
  it("cancels the in-flight send at the flush deadline and keeps the alert pending", async () => {
    const server = new BotApiServer();
    api = server;
    await server.start();
    server.hangSendMessage();
    const f = new FleetFixture({ ...COUNT_EVERY_FILE, telegram: { chatIds: [-1001] } });
    fx = f;
    f.setFileCount("acme", 130);
    const { supervisor, store } = await f.startSupervisor({ apiRoot: server.apiRoot });
    await waitFor(() => server.requests.some((r) => r.method === "sendMessage"), {
      timeoutMs: 10_000,
      what: "the alert in flight",
    });
    const stopped = f.stopSupervisor(supervisor, 300).then(() => "stopped");
    // Far below the client's 30 s timeout, far above the 300 ms flush on a loaded machine.
    const outcome = await Promise.race([
      stopped,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve("still stopping after 10 s"), 10_000).unref(),
      ),
    ]);
    expect(outcome).toBe("stopped");
    const { openStore } = await import("../src/store/store.js");
    const path = await import("node:path");
    const reopened = openStore(path.join(f.home, "warden.db"));
    try {
      expect(reopened.outbox.list().map((r) => r.status)).toEqual(["pending"]);
    } finally {
      reopened.close();
    }
    expect(store.db.open).toBe(false);
  }, 60_000);
});
