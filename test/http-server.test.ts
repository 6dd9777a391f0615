import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, ErrorCodes, WardenError } from "../src/errors.js";
import { isLoopback, parseListen, resolveListen } from "../src/http/listen-address.js";
import { entryArgs } from "./helpers/entry.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { telegramAlert } from "./helpers/outbox-rows.js";
import { parsePrometheusText, sampleValue } from "./helpers/prom-text.js";
import { waitFor } from "./helpers/wait-for.js";

const TOKEN = "http-test-token-0123456789";
const BEARER = { headers: { authorization: `Bearer ${TOKEN}` } };
let fx: FleetFixture;

afterEach(async () => {
  await fx?.cleanup();
});

/** A fleet of two companies and a supervisor serving HTTP on 127.0.0.1:<free port>. */
async function serve(token: string | null = TOKEN, watch = true) {
  fx = new FleetFixture({ ...COUNT_EVERY_FILE, fleet: { probe: null } });
  fx.setFileCount("acme", 151);
  fx.setFileCount("beta", 12);
  const { supervisor, store } = await fx.startSupervisor({
    token: null,
    watch,
    http: { token: token ?? undefined },
  });
  const address = supervisor.http?.boundAddress;
  if (!address) throw new Error("no bound address");
  return { supervisor, store, base: `http://${address}` };
}

describe("http.listen", () => {
  it("parses host:port, IPv6 in brackets, and knows loopback", () => {
    expect(parseListen("127.0.0.1:9480")).toEqual({ host: "127.0.0.1", port: 9480 });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(parseListen("localhost")).toBeUndefined();
    expect(parseListen("127.0.0.1:70000")).toBeUndefined();
    expect(isLoopback("127.0.0.2")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
    expect(isLoopback("10.1.2.3")).toBe(false);
  });

  it("null turns HTTP off; a non-loopback address needs WARDEN_HTTP_TOKEN (config error, exit 78)", () => {
    expect(resolveListen(null, undefined, "/etc/warden.json")).toBeUndefined();
    const plain = { trustProxy: false, allowPlainHttp: true };
    expect(resolveListen("0.0.0.0:9480", "tok", "/etc/warden.json", plain)).toEqual({
      host: "0.0.0.0",
      port: 9480,
    });
    let err: unknown;
    try {
      resolveListen("0.0.0.0:9480", undefined, "/etc/warden.json");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((err as ConfigError).message).toContain("/etc/warden.json");
    expect((err as ConfigError).message).toContain("http.listen is 0.0.0.0:9480");
    expect((err as ConfigError).message).toContain("WARDEN_HTTP_TOKEN");
  });

  it("warden.json rejects a malformed http.listen, naming the key", async () => {
    fx = new FleetFixture({ http: { listen: "everywhere" } });
    const { loadConfig } = await import("../src/config/load.js");
    expect(() => loadConfig(fx.configFile)).toThrow(/http\.listen.*host:port/);
    fx.writeConfig({ http: {} });
    expect(loadConfig(fx.configFile).http.listen).toBe("127.0.0.1:9480");
  });

  it("a port in use is a clear error naming the address", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      fx = new FleetFixture({ fleet: { probe: null } });
      const { Supervisor } = await import("../src/supervisor/supervisor.js");
      const { openStore } = await import("../src/store/store.js");
      const { loadConfig } = await import("../src/config/load.js");
      const store = openStore(`${fx.home}/warden.db`);
      const supervisor = new Supervisor({
        config: loadConfig(fx.configFile),
        store,
        logger: fx.logger(),
        clock: { now: () => Date.now() },
        notifiers: new Map(),
        watch: false,
        http: { address: { host: "127.0.0.1", port }, token: undefined },
      });
      const failure = await supervisor.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      await supervisor.close(0);
      store.close();
      expect(failure).toBeInstanceOf(WardenError);
      expect((failure as WardenError).code).toBe(ErrorCodes.HTTP_LISTEN);
      expect((failure as Error).message).toContain(`Cannot listen on 127.0.0.1:${port} (http.listen)`);
      expect((failure as Error).message).toContain("in use");
    } finally {
      blocker.close();
    }
  });
});

describe("HTTP side on a real socket", () => {
  it("logs the bound address; /healthz answers; /readyz waits for a worker heartbeat", async () => {
    const { supervisor, store, base } = await serve();
    const logged = fx.logLines.find(
      (l) => typeof l.msg === "string" && l.msg.startsWith("HTTP listening on"),
    );
    expect(logged?.msg).toBe(`HTTP listening on ${base}`);
    expect(supervisor.http?.boundAddress).toMatch(/^127\.0\.0\.1:\d+$/);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain("no worker is running");

    store.workers.register({ holder: "w0", instance: 0, pid: process.pid, pmId: null }, Date.now());
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.text()).toBe("ready\n");
    expect(ready.status).toBe(200);

    // A worker silent past workers.deadAfter makes the supervisor unready again.
    store.workers.register(
      { holder: "w1", instance: 1, pid: process.pid, pmId: null },
      Date.now() - 3_600_000,
    );
    const silent = await fetch(`${base}/readyz`);
    expect(silent.status).toBe(503);
    expect(await silent.text()).toContain("1 of 2 worker(s) silent");
  });

  it("/readyz says so when the database cannot take a write (another connection holds the lock)", async () => {
    // No file watching: a rescan meanwhile would itself wait for the lock (and fail).
    const { store, base } = await serve(TOKEN, false);
    store.workers.register({ holder: "w0", instance: 0, pid: process.pid, pmId: null }, Date.now());
    const other = new Database(path.join(fx.home, "warden.db"));
    other.exec("BEGIN IMMEDIATE");
    try {
      // The check waits for the lock up to busy_timeout (5 s), then reports it.
      const res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/not ready: the database is not writable: database is locked/);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });

  it("/metrics is Prometheus text with the fleet's series (behind the token when one is set)", async () => {
    const { store, base } = await serve();
    const now = Date.now();
    store.connections.transition(
      { company: "beta", to: "open", code: null, message: null, holder: "w0" },
      now,
    );
    store.connections.transition(
      { company: "acme", to: "close", code: 428, message: "closed", holder: "w0" },
      now - 90_000,
    );
    store.ladder.addStep("acme", "reconnect", "down 15m", "reconnect requested (#3)", now);
    store.ladder.addStep("acme", "reconnect", "down 17m", "reconnect requested (#4)", now);
    store.ladder.addStep("acme", "cleanup:smart", "critical", "failed: disk full", now);
    store.workers.register({ holder: "w0", instance: 0, pid: process.pid, pmId: null }, now);
    // A backlog of exactly 2: acme's warning delivered to the log, then two Telegram alerts that
    // wait (no Telegram token, so no Telegram notifier).
    await waitFor(() => store.outbox.pendingCount() === 0, { what: "the log alerts delivered" });
    store.outbox.add([telegramAlert("acme"), telegramAlert("beta")], now);

    const res = await fetch(`${base}/metrics`, BEARER);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const m = parsePrometheusText(text);
    expect(m.types.get("warden_company_files")).toBe("gauge");
    expect(sampleValue(m, "warden_company_files", { company: "acme", kind: "total" })).toBe(151);
    expect(sampleValue(m, "warden_company_files", { company: "acme", kind: "counted" })).toBe(151);
    expect(sampleValue(m, "warden_company_files", { company: "beta", kind: "total" })).toBe(12);
    expect(sampleValue(m, "warden_company_level", { company: "acme" })).toBe(2); // warning
    expect(sampleValue(m, "warden_company_level", { company: "beta" })).toBe(0);
    expect(sampleValue(m, "warden_company_connected", { company: "beta" })).toBe(1);
    expect(sampleValue(m, "warden_company_connected", { company: "acme" })).toBe(0);
    expect(sampleValue(m, "warden_company_down_seconds", { company: "acme" })).toBeGreaterThanOrEqual(90);
    expect(sampleValue(m, "warden_company_down_seconds", { company: "beta" })).toBe(0);
    expect(sampleValue(m, "warden_outbox_pending")).toBe(2);
    expect(m.types.get("warden_ladder_actions_total") ?? m.types.get("warden_ladder_actions")).toBe(
      "counter",
    );
    expect(sampleValue(m, "warden_ladder_actions_total", { action: "reconnect", result: "done" })).toBe(2);
    expect(sampleValue(m, "warden_ladder_actions_total", { action: "cleanup:smart", result: "failed" })).toBe(
      1,
    );
    expect(m.types.get("warden_scan_duration_seconds")).toBe("histogram");
    expect(sampleValue(m, "warden_scan_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, "warden_workers_alive")).toBe(1);
    expect(sampleValue(m, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sampleValue(m, "nodejs_eventloop_lag_seconds")).toBeDefined();

    // A removed folder drops its series at the next scrape.
    fx.setFileCount("beta", 0);
    const { rmSync } = await import("node:fs");
    rmSync(`${fx.sessionsDir}/beta`, { recursive: true });
    await waitFor(() => store.companies.get("beta")?.removedAt != null, { what: "beta marked removed" });
    const after = parsePrometheusText(await (await fetch(`${base}/metrics`, BEARER)).text());
    expect(sampleValue(after, "warden_company_files", { company: "beta", kind: "total" })).toBeUndefined();
  });

  it("/api needs the token: Bearer, or ?token= once which sets an HttpOnly SameSite cookie", async () => {
    const { base } = await serve();
    const denied = await fetch(`${base}/api/companies`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Bearer");
    expect((await fetch(`${base}/api/companies`, { headers: { authorization: "Bearer nope" } })).status).toBe(
      401,
    );
    expect((await fetch(`${base}/api/companies?token=nope`)).status).toBe(401);

    const ok = await fetch(`${base}/api/companies`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const doc = (await ok.json()) as { companies: { id: string; files: { total: number }; level: string }[] };
    expect(doc.companies.map((c) => [c.id, c.files.total, c.level])).toEqual([
      ["acme", 151, "warning"],
      ["beta", 12, "ok"],
    ]);

    const once = await fetch(`${base}/api/companies/acme?token=${TOKEN}`);
    expect(once.status).toBe(200);
    const cookie = once.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^warden_session=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
    const viaCookie = await fetch(`${base}/api/companies/acme`, {
      headers: { cookie: cookie.split(";")[0] as string },
    });
    expect(viaCookie.status).toBe(200);
    expect(((await viaCookie.json()) as { id: string }).id).toBe("acme");
    expect(
      (await fetch(`${base}/api/companies/nobody`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);

    // A page visited with ?token= sets the cookie and redirects to the URL without the token.
    const page = await fetch(`${base}/companies/acme?token=${TOKEN}`, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/companies/acme");
    expect(page.headers.get("set-cookie")).toContain("HttpOnly");
  });

  it("without WARDEN_HTTP_TOKEN, /api and the pages answer 403 saying so; probes and loopback /metrics stay open", async () => {
    const { base } = await serve(null);
    const api = await fetch(`${base}/api/companies`);
    expect(api.status).toBe(403);
    expect(await api.text()).toContain("WARDEN_HTTP_TOKEN is not set");
    expect((await fetch(`${base}/companies/acme/qr`)).status).toBe(403);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it("closes with the supervisor: the port is free afterwards", async () => {
    const { supervisor, base } = await serve();
    await fx.stopSupervisor(supervisor);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe("warden-supervisor with http.listen", () => {
  const repo = path.resolve(import.meta.dirname, "..");
  const spawnSupervisor = (listen: string, env: Record<string, string> = {}) => {
    fx = new FleetFixture({ fleet: { probe: null }, http: { listen } });
    fx.setFileCount("acme", 3);
    const child = spawn(process.execPath, entryArgs("src/supervisor/main.ts"), {
      cwd: repo,
      env: {
        ...process.env,
        WARDEN_CONFIG: fx.configFile,
        WARDEN_HOME: fx.home,
        LOG_LEVEL: "info",
        WARDEN_HTTP_TOKEN: "",
        TELEGRAM_BOT_TOKEN: "",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, exited, output: () => out };
  };

  it("refuses a non-loopback address without WARDEN_HTTP_TOKEN: exit 78 with a clear message", async () => {
    const { exited, output } = spawnSupervisor("0.0.0.0:0");
    expect(await exited).toBe(78);
    expect(output()).toContain("http.listen is 0.0.0.0:0, which is not a loopback address");
    expect(output()).toContain("WARDEN_HTTP_TOKEN");
  });

  it("logs the bound address of port 0 and serves there until SIGTERM", async () => {
    const { child, exited, output } = spawnSupervisor("127.0.0.1:0");
    try {
      const address = await waitFor(
        () => /HTTP listening on http:\/\/(127\.0\.0\.1:\d+)/.exec(output())?.[1],
        {
          timeoutMs: 30_000,
          what: "the supervisor's HTTP listening line",
        },
      );
      const res = await waitFor(
        async () => {
          const r = await fetch(`http://${address}/healthz`);
          return r.status === 200 ? r : undefined;
        },
        { timeoutMs: 10_000 },
      );
      expect(await res.text()).toBe("ok\n");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

/** A GET with any Host header (fetch will not set one). */
function get(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, headers },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
  });
}

describe("HTTP trust boundaries", () => {
  it("a foreign Host gets 421 everywhere but the probes; the listen address, localhost and allowedHosts pass", async () => {
    fx = new FleetFixture({
      fleet: { probe: null },
      http: { listen: null, allowedHosts: ["warden.example.com"] },
    });
    fx.setFileCount("acme", 3);
    const { supervisor } = await fx.startSupervisor({ token: null, http: { token: TOKEN } });
    const base = `http://${supervisor.http?.boundAddress}`;
    const port = new URL(base).port;
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const path of ["/metrics", "/api/companies", "/", "/companies/acme/qr"]) {
      const res = await get(base, path, { host: "attacker.example", ...auth });
      expect(res.status, path).toBe(421);
      expect(res.body).not.toContain("acme");
    }
    expect((await get(base, "/healthz", { host: "attacker.example" })).status).toBe(200);
    expect((await get(base, "/readyz", { host: "attacker.example" })).status).not.toBe(421);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      "warden.example.com",
      "WARDEN.example.com:443",
    ])
      expect((await get(base, "/api/companies", { host, ...auth })).status, host).toBe(200);
    // /metrics needs the token once one is set, as a Prometheus bearer.
    expect((await get(base, "/metrics", { host: `127.0.0.1:${port}` })).status).toBe(401);
    expect((await get(base, "/metrics", { host: `127.0.0.1:${port}`, ...auth })).status).toBe(200);
  });

  it("the session cookie is Secure when https came through the trusted proxy, never otherwise", async () => {
    fx = new FleetFixture({ fleet: { probe: null }, http: { listen: null, trustProxy: ["127.0.0.1"] } });
    const { supervisor, store } = await fx.startSupervisor({ token: null, http: { token: TOKEN } });
    const base = `http://${supervisor.http?.boundAddress}`;
    const host = new URL(base).host;
    const viaProxy = await get(base, `/?token=${TOKEN}`, { host, "x-forwarded-proto": "https" });
    expect(viaProxy.status).toBe(303);
    expect(viaProxy.headers.location).toBe("/");
    expect(String(viaProxy.headers["set-cookie"])).toMatch(/; Secure$/);
    const plain = await get(base, `/?token=${TOKEN}`, { host });
    expect(String(plain.headers["set-cookie"])).not.toContain("Secure");
    // Only hashes are stored; a session cookie lets the browser in.
    const id = String(plain.headers["set-cookie"]).split(";")[0]?.split("=")[1] as string;
    const stored = store.db.prepare("SELECT hash FROM http_sessions").all() as { hash: string }[];
    expect(stored).toHaveLength(2);
    expect(stored.map((r) => r.hash)).not.toContain(id);
    expect((await get(base, "/", { host, cookie: `warden_session=${id}` })).status).toBe(200);
  });

  it("a non-loopback listen without TLS in front is refused unless http.allowPlainHttp", () => {
    const file = "/etc/warden.json";
    expect(() => resolveListen("10.0.0.5:9480", "tok", file)).toThrow(
      /http\.trustProxy.*allowPlainHttp: true/,
    );
    expect(
      resolveListen("10.0.0.5:9480", "tok", file, { trustProxy: ["10.0.0.1"], allowPlainHttp: false }),
    ).toEqual({
      host: "10.0.0.5",
      port: 9480,
    });
    expect(resolveListen("127.0.0.1:9480", undefined, file)).toEqual({ host: "127.0.0.1", port: 9480 });
  });
});
