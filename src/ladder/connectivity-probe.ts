/** The connectivity probe: can this machine open a TCP connection to WhatsApp's web endpoint? */
import net from "node:net";

/** Resolves true when a TCP connection to host:port opens within `timeoutMs`, false otherwise. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
