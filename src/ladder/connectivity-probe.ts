/** The connectivity probe: can this machine open a TCP connection to WhatsApp's web endpoint? */
import net from "node:net";

/** A probe's outcome; `error` says why it failed ("connect ECONNREFUSED 1.2.3.4:443", "timed out after 5s"). */
export interface ProbeResult {
  ok: boolean;
  error: string | null;
}

/** Opens a TCP connection to host:port within `timeoutMs`; says why when it cannot. */
export function probeTcpDetailed(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, error: `no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once("connect", () => done({ ok: true, error: null }));
    socket.once("error", (err) => done({ ok: false, error: err.message }));
  });
}

/** Resolves true when a TCP connection to host:port opens within `timeoutMs`, false otherwise. */
export async function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return (await probeTcpDetailed(host, port, timeoutMs)).ok;
}
