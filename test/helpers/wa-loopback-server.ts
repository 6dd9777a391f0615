/**
 * A loopback WhatsApp Web server just real enough for rc14's socket to log in: the Noise XX
 * handshake (Baileys' own primitives, mirrored), a certificate chain signed by a test root that the
 * test installs as WA_CERT_DETAILS.PUBLIC_KEY (Baileys reads that object at each handshake), then
 * `<success>` and an empty result for every iq, so the socket reports `connection: open`. Pings
 * (iq xmlns w:p) are answered or dropped as the test says. WhatsApp's servers cannot be reached
 * here; everything on the client side is the real library.
 */
import {
  aesDecryptGCM,
  aesEncryptGCM,
  type BinaryNode,
  Curve,
  decodeBinaryNode,
  encodeBinaryNode,
  hkdf,
  type KeyPair,
  NOISE_MODE,
  NOISE_WA_HEADER,
  proto,
  sha256,
  WA_CERT_DETAILS,
} from "baileys";
import { type WebSocket, WebSocketServer } from "ws";

/** What the server does with pings. */
export interface LoopbackOptions {
  answerPings: boolean;
}

/** A running loopback server. */
export interface LoopbackServer {
  url: string;
  /** Pings received (answered or not). */
  pings: number;
  options: LoopbackOptions;
  close(): Promise<void>;
}

const iv = (counter: number) => {
  const buf = Buffer.alloc(12);
  buf.writeUInt32BE(counter, 8);
  return buf;
};

/** The server half of Baileys' Noise handshake and transport (noise-handler.js, mirrored). */
class ServerNoise {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private send: { key: Buffer; n: number } | null = null;
  private recv: { key: Buffer; n: number } | null = null;

  constructor(clientEphemeral: Uint8Array) {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.byteLength === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
    this.authenticate(NOISE_WA_HEADER);
    this.authenticate(clientEphemeral);
  }

  authenticate(data: Uint8Array): void {
    if (!this.send) this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  mixIntoKey(data: Uint8Array): void {
    const out = Buffer.from(hkdf(Buffer.from(data), 64, { salt: this.salt, info: "" }));
    this.salt = out.subarray(0, 32);
    this.key = out.subarray(32);
    this.counter = 0;
  }

  encrypt(plain: Uint8Array): Buffer {
    if (this.send)
      return Buffer.from(aesEncryptGCM(plain, this.send.key, iv(this.send.n++), Buffer.alloc(0)));
    const out = Buffer.from(aesEncryptGCM(plain, this.key, iv(this.counter++), this.hash));
    this.authenticate(out);
    return out;
  }

  decrypt(cipher: Uint8Array): Buffer {
    if (this.recv)
      return Buffer.from(aesDecryptGCM(cipher, this.recv.key, iv(this.recv.n++), Buffer.alloc(0)));
    const out = Buffer.from(aesDecryptGCM(cipher, this.key, iv(this.counter++), this.hash));
    this.authenticate(cipher);
    return out;
  }

  /** Transport keys: the client writes with the first half, so the server reads with it. */
  finish(): void {
    const out = Buffer.from(hkdf(Buffer.alloc(0), 64, { salt: this.salt, info: "" }));
    this.recv = { key: out.subarray(0, 32), n: 0 };
    this.send = { key: out.subarray(32), n: 0 };
  }
}

/** A certificate chain under `root`, for the server's static key. */
function certChain(root: KeyPair, serverStatic: KeyPair): Uint8Array {
  const intermediateKey = Curve.generateKeyPair();
  const details = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 1,
    issuerSerial: WA_CERT_DETAILS.SERIAL,
    key: intermediateKey.public,
  }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 2,
    issuerSerial: 1,
    key: serverStatic.public,
  }).finish();
  return proto.CertChain.encode({
    intermediate: { details, signature: Curve.sign(root.private, details) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediateKey.private, leafDetails) },
  }).finish();
}

/** Splits 3-byte length-prefixed frames out of a growing buffer. */
function takeFrames(state: { buf: Buffer }): Buffer[] {
  const frames: Buffer[] = [];
  while (state.buf.length >= 3) {
    const size = (state.buf[0] as number) * 65536 + (state.buf[1] as number) * 256 + (state.buf[2] as number);
    if (state.buf.length < size + 3) break;
    frames.push(state.buf.subarray(3, size + 3));
    state.buf = state.buf.subarray(size + 3);
  }
  return frames;
}

/**
 * Starts the server on 127.0.0.1 (a free port) and installs its root key as Baileys'
 * WA_CERT_DETAILS.PUBLIC_KEY (put back by close()).
 */
export async function startLoopbackWhatsApp(options: LoopbackOptions): Promise<LoopbackServer> {
  const root = Curve.generateKeyPair();
  const savedKey = WA_CERT_DETAILS.PUBLIC_KEY;
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(root.public);
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const server: LoopbackServer = {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/ws/chat`,
    pings: 0,
    options,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      WA_CERT_DETAILS.PUBLIC_KEY = savedKey;
    },
  };
  wss.on("connection", (ws) => serve(ws, server, root));
  return server;
}

function serve(ws: WebSocket, server: LoopbackServer, root: KeyPair): void {
  const state = { buf: Buffer.alloc(0), intro: false };
  let noise: ServerNoise | undefined;
  let serverEphemeral: KeyPair | undefined;
  let phase: "hello" | "finish" | "transport" = "hello";
  const sendFrame = (data: Uint8Array) => {
    const frame = Buffer.alloc(3 + data.byteLength);
    frame.writeUIntBE(data.byteLength, 0, 3);
    frame.set(data, 3);
    ws.send(frame);
  };
  const sendNode = (node: BinaryNode) => sendFrame((noise as ServerNoise).encrypt(encodeBinaryNode(node)));

  const onFrame = async (frame: Buffer) => {
    if (phase === "hello") {
      const hello = proto.HandshakeMessage.decode(frame).clientHello;
      const clientEphemeral = hello?.ephemeral as Uint8Array;
      noise = new ServerNoise(clientEphemeral);
      serverEphemeral = Curve.generateKeyPair();
      const serverStatic = Curve.generateKeyPair();
      noise.authenticate(serverEphemeral.public);
      noise.mixIntoKey(Curve.sharedKey(serverEphemeral.private, clientEphemeral));
      const staticEnc = noise.encrypt(serverStatic.public);
      noise.mixIntoKey(Curve.sharedKey(serverStatic.private, clientEphemeral));
      const payload = noise.encrypt(certChain(root, serverStatic));
      sendFrame(
        proto.HandshakeMessage.encode({
          serverHello: { ephemeral: serverEphemeral.public, static: staticEnc, payload },
        }).finish(),
      );
      phase = "finish";
      return;
    }
    const n = noise as ServerNoise;
    if (phase === "finish") {
      const finish = proto.HandshakeMessage.decode(frame).clientFinish;
      const clientStatic = n.decrypt(finish?.static as Uint8Array);
      n.mixIntoKey(Curve.sharedKey((serverEphemeral as KeyPair).private, clientStatic));
      n.decrypt(finish?.payload as Uint8Array); // the ClientPayload (login): any is accepted
      n.finish();
      phase = "transport";
      sendNode({ tag: "success", attrs: { t: String(Math.floor(Date.now() / 1000)) } });
      return;
    }
    const node = await decodeBinaryNode(n.decrypt(frame));
    if (node.tag !== "iq") return;
    if (node.attrs.xmlns === "w:p") {
      server.pings++;
      if (!server.options.answerPings) return;
    }
    sendNode({ tag: "iq", attrs: { id: node.attrs.id as string, type: "result", from: "s.whatsapp.net" } });
  };

  let chain = Promise.resolve();
  ws.on("message", (data: Buffer) => {
    state.buf = Buffer.concat([state.buf, data]);
    if (!state.intro) {
      if (state.buf.length < NOISE_WA_HEADER.length) return;
      state.buf = state.buf.subarray(NOISE_WA_HEADER.length);
      state.intro = true;
    }
    for (const frame of takeFrames(state))
      chain = chain.then(() => onFrame(frame)).catch(() => ws.terminate());
  });
}
