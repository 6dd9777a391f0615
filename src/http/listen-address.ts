/**
 * `http.listen`: parsing "host:port" and the rules that keep the fleet's pages off the network
 * without a token, and the token off the network in clear: a non-loopback address needs
 * WARDEN_HTTP_TOKEN, and TLS in front (known from `http.trustProxy`: the proxy that terminates
 * TLS is named) or `http.allowPlainHttp: true`; otherwise start-up exits 78.
 */
import net from "node:net";
import { ConfigError, ErrorCodes } from "../errors.js";

/** A parsed listen address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses "127.0.0.1:9480" or "[::1]:9480"; undefined when the text is not host:port. */
export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65_535) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}

/** "host:port" with IPv6 hosts in brackets. */
export function formatListen(address: ListenAddress): string {
  return net.isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  return /^::ffff:127\./i.test(host);
}

/**
 * The listen address to use (undefined: HTTP off). Throws ConfigError (exit 78) when the address
 * is invalid, or is not loopback while no token is set: pages that link a device must never be
 * open to the network.
 */
export function resolveListen(
  listen: string | null,
  token: string | undefined,
  file: string,
  transport: { trustProxy: boolean | readonly string[]; allowPlainHttp: boolean } = {
    trustProxy: false,
    allowPlainHttp: false,
  },
): ListenAddress | undefined {
  if (listen === null) return undefined;
  const address = parseListen(listen);
  if (!address)
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, file, [
      `http.listen: expected "host:port" such as "127.0.0.1:9480", got ${JSON.stringify(listen)}`,
    ]);
  if (!isLoopback(address.host) && token === undefined)
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, file, [
      `http.listen is ${listen}, which is not a loopback address, and WARDEN_HTTP_TOKEN is not set: ` +
        "set WARDEN_HTTP_TOKEN (the pages, /api and /metrics will require it) or listen on 127.0.0.1",
    ]);
  const tlsInFront =
    transport.trustProxy === true || (Array.isArray(transport.trustProxy) && transport.trustProxy.length > 0);
  if (!isLoopback(address.host) && !tlsInFront && !transport.allowPlainHttp)
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, file, [
      `http.listen is ${listen}, which is not a loopback address, with no TLS proxy in front (http.trustProxy): ` +
        "the token and the session cookie would cross the network in clear. Put a TLS proxy in front and set " +
        "http.trustProxy to its address, or set http.allowPlainHttp: true to accept plain HTTP",
    ]);
  return address;
}
