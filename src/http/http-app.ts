/**
 * The HTTP side's app (fastify): probes, /metrics, /api and the pages, on the `http.listen`
 * address. Built with what it reads (store, config, clock) and closed with a bound, so a stuck
 * browser connection never holds up the supervisor's shutdown. Imported by `server.ts` only when
 * the server starts listening: fastify, prom-client and qrcode stay out of a supervisor without
 * `http.listen`.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { WardenConfig } from "../config/load.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { createAuth } from "./auth.js";
import { aliveWorkers, type FleetSource } from "./fleet-view.js";
import { formatListen, type ListenAddress } from "./listen-address.js";
import { createFleetMetrics, type FleetMetrics } from "./metrics.js";
import { registerApiRoutes } from "./routes/api.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { registerPageRoutes } from "./routes/pages.js";
import { type Readiness, registerProbeRoutes } from "./routes/probes.js";

/** What the server is built from. */
export interface HttpServerOptions {
  address: ListenAddress;
  /** WARDEN_HTTP_TOKEN (undefined: /api and the pages answer 403). */
  token: string | undefined;
  store: Store;
  config(): WardenConfig;
  now(): number;
  logger: Logger;
  /** True once the supervisor's first full scan is done. */
  firstScanDone(): boolean;
  /** WARDEN_HOME/backups: the dashboard's backup recommendations (undefined: not looked at). */
  backupsRoot?: string;
}

/** The built app, not listening yet. */
export interface HttpApp {
  readonly metrics: FleetMetrics;
  /** Starts listening; resolves with the bound address ("127.0.0.1:43121" for port 0). */
  listen(): Promise<string>;
  /** Closes the server within `timeoutMs` (open connections are dropped). Idempotent. */
  close(timeoutMs: number): Promise<void>;
}

/** How long a database write check is trusted (the check takes the write lock: not on every probe). */
const WRITABLE_CHECK_EVERY_MS = 5_000;

/** Readiness of the supervisor: first scan done, database writable, workers heartbeating. */
export function readiness(
  source: FleetSource,
  firstScanDone: boolean,
  writable: () => string | undefined,
): Readiness {
  if (!firstScanDone) return { ok: false, reason: "the first scan of sessionsDir is not done" };
  const notWritable = writable();
  if (notWritable !== undefined) return { ok: false, reason: `the database is not writable: ${notWritable}` };
  const config = source.config();
  const alive = source.store.workers.list().filter((w) => w.status === "alive");
  if (alive.length === 0) return { ok: false, reason: "no worker is running (none registered as alive)" };
  const beating = aliveWorkers(source);
  if (beating < alive.length)
    return {
      ok: false,
      reason: `${alive.length - beating} of ${alive.length} worker(s) silent for more than workers.deadAfter (${config.workers.deadAfter} ms)`,
    };
  return { ok: true };
}

/**
 * True when a Host header names this server: its listen address, localhost, or one of
 * `http.allowedHosts` (a name alone matches any port; "name:port" that port only). A page on
 * another site that rebinds its DNS name to 127.0.0.1 still sends its own name, and gets 421.
 */
export function hostAllowed(
  header: string | undefined,
  address: ListenAddress,
  allowedHosts: readonly string[],
): boolean {
  if (!header) return false;
  const host = header.toLowerCase();
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  const names = new Set(["localhost", address.host.toLowerCase()]);
  for (const allowed of allowedHosts) {
    const entry = allowed.toLowerCase();
    if (entry === host) return true;
    names.add(entry.startsWith("[") && entry.endsWith("]") ? entry.slice(1, -1) : entry);
  }
  return names.has(name);
}

/** Builds the app (routes registered, not listening yet). */
export function buildHttpApp(options: HttpServerOptions): HttpApp {
  const source: FleetSource = { store: options.store, config: options.config, now: options.now };
  const log = options.logger.child({ component: "http" });
  const http = options.config().http;
  const app: FastifyInstance = Fastify({
    logger: false,
    forceCloseConnections: true,
    // X-Forwarded-Proto/-For are believed only from the proxy named here (https → Secure cookie).
    trustProxy: http.trustProxy,
  });
  const auth = createAuth({
    token: options.token,
    sessions: options.store.httpSessions,
    sessionTtl: () => options.config().http.sessionTtl,
    now: options.now,
  });
  const metrics = createFleetMetrics(source);
  addHooks(app, options, log);
  const writable = writableCheck(options);
  registerProbeRoutes(app, () => readiness(source, options.firstScanDone(), writable));
  registerMetricsRoutes(app, metrics, auth, options.token !== undefined);
  registerApiRoutes(app, source, auth);
  registerPageRoutes(app, source, auth, options.backupsRoot);

  let closing: Promise<void> | undefined;
  return {
    metrics,
    listen: () => listenOn(app, options.address),
    close(timeoutMs) {
      closing ??= closeWithin(app, log, timeoutMs);
      return closing;
    },
  };
}

/** The Host check (421, the probes excepted), the security headers, and the error handler. */
function addHooks(app: FastifyInstance, options: HttpServerOptions, log: Logger): void {
  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0];
    if (path === "/healthz" || path === "/readyz") return;
    const host = request.headers.host;
    if (hostAllowed(host, options.address, options.config().http.allowedHosts)) return;
    return reply
      .code(421)
      .type("text/plain; charset=utf-8")
      .send(
        `Misdirected request: Host ${JSON.stringify(host ?? "")} is not this server's (its listen address, localhost, or http.allowedHosts).\n`,
      );
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    return payload;
  });
  app.setErrorHandler((err, request, reply) => {
    log.error({ err, url: request.url.replace(/token=[^&]*/g, "token=[redacted]") }, describeError(err));
    return reply.code(500).type("text/plain").send("internal error (see the supervisor log)\n");
  });
}

/** /readyz's database check: is warden.db writable, asked at most every WRITABLE_CHECK_EVERY_MS (the error text or undefined). */
function writableCheck(options: HttpServerOptions): () => string | undefined {
  let last: { at: number; error: string | undefined } | undefined;
  return () => {
    const now = options.now();
    if (!last || now - last.at >= WRITABLE_CHECK_EVERY_MS) {
      let error: string | undefined;
      try {
        options.store.fleetStats.assertWritable();
      } catch (err) {
        error = describeError(err);
      }
      last = { at: now, error };
    }
    return last.error;
  };
}

/** Listens on `address`; the address actually bound ("host:port"), or HTTP_LISTEN with the reason. */
async function listenOn(app: FastifyInstance, address: ListenAddress): Promise<string> {
  const wanted = formatListen(address);
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "EADDRINUSE"
        ? "the address is in use (another warden-supervisor, or another program, listens there)"
        : code === "EADDRNOTAVAIL"
          ? "no network interface has this address"
          : code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : describeError(err);
    throw new WardenError(
      ErrorCodes.HTTP_LISTEN,
      `Cannot listen on ${wanted} (http.listen): ${why}. Change http.listen in warden.json, or set it to null to turn the HTTP side off.`,
      { address: wanted },
      { cause: err },
    );
  }
  const info = app.server.address();
  return info && typeof info === "object" ? formatListen({ host: info.address, port: info.port }) : wanted;
}

/** Closes the server; after `timeoutMs` its remaining connections are dropped. */
async function closeWithin(app: FastifyInstance, log: Logger, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn(`HTTP server did not close within ${timeoutMs} ms; dropping its connections`);
      app.server.closeAllConnections?.();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([app.close().catch((err) => log.warn({ err }, "HTTP close failed")), timeout]);
  clearTimeout(timer);
}
