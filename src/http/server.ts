/**
 * The HTTP side of the supervisor as the supervisor holds it: built at once, loaded when it starts
 * listening. The app itself (`http-app.ts`: fastify, prom-client, the pages with qrcode) is
 * imported by `listen()`, so a supervisor without `http.listen` never loads it (~35 MB of RSS).
 */
import type { HttpApp, HttpServerOptions } from "./http-app.js";
import type { FleetMetrics } from "./metrics.js";

export type { HttpServerOptions };

/** A running (or not yet started) HTTP side. */
export interface HttpServer {
  /** Records full scans in /metrics (a scan before `listen()` is not recorded). */
  readonly metrics: Pick<FleetMetrics, "observeScan">;
  /** Loads and builds the app, starts listening; resolves with the bound address ("127.0.0.1:43121" for port 0). */
  listen(): Promise<string>;
  /** The bound address, once listening. */
  readonly boundAddress: string | undefined;
  /** Closes the server within `timeoutMs` (open connections are dropped). Idempotent. */
  close(timeoutMs?: number): Promise<void>;
}

/** The server of `options`; nothing is loaded or bound before `listen()`. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  let app: HttpApp | undefined;
  let loading: Promise<HttpApp> | undefined;
  let bound: string | undefined;
  let closing: Promise<void> | undefined;
  const load = (): Promise<HttpApp> => {
    loading ??= import("./http-app.js").then((m) => {
      app = m.buildHttpApp(options);
      return app;
    });
    return loading;
  };
  return {
    metrics: { observeScan: (ms) => app?.metrics.observeScan(ms) },
    get boundAddress() {
      return bound;
    },
    async listen() {
      bound = await (await load()).listen();
      return bound;
    },
    close(timeoutMs = 2_000) {
      // Never listened: nothing was loaded, nothing to close.
      closing ??= loading
        ? loading.then(
            (built) => built.close(timeoutMs),
            () => undefined,
          )
        : Promise.resolve();
      return closing;
    },
  };
}
