/**
 * A Telegram Bot API server on 127.0.0.1 for tests: the real client talks HTTP to it. It records
 * sendMessage calls and can be told to answer 429 with retry_after, to migrate a group chat, or to
 * go down and come back on the same port.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A message the server accepted. */
export interface ReceivedMessage {
  chatId: string;
  text: string;
  parseMode: string | undefined;
  disableNotification: boolean;
  at: number;
}

/** One request as received (accepted or not). */
export interface ReceivedRequest {
  method: string;
  token: string;
  params: Record<string, string>;
  at: number;
  status: number;
}

type Rule = (req: ReceivedRequest) => { status: number; body: unknown } | undefined;

/** The loopback Bot API. */
export class BotApiServer {
  readonly messages: ReceivedMessage[] = [];
  readonly requests: ReceivedRequest[] = [];
  private readonly rules: Rule[] = [];
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private nextMessageId = 1;

  /** API root to give the client (TELEGRAM_API_ROOT). */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening (on the previous port after a stop). */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops open connections (the API is "down"). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answers the next `count` sendMessage calls with 429 and `retry_after` seconds. */
  rateLimitNext(retryAfterSeconds: number, count = 1): void {
    let left = count;
    this.rules.push((req) => {
      if (req.method !== "sendMessage" || left <= 0) return undefined;
      left--;
      return {
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${retryAfterSeconds}`,
          parameters: { retry_after: retryAfterSeconds },
        },
      };
    });
  }

  /** Every call with a token other than `token` is refused with 401 Unauthorized, as Telegram does. */
  acceptOnlyToken(token: string): void {
    this.rules.push((req) =>
      req.token === token
        ? undefined
        : { status: 401, body: { ok: false, error_code: 401, description: "Unauthorized" } },
    );
  }

  /** getChat and sendMessage for `chatId` answer 400 "chat not found" (the bot is not in it). */
  unknownChat(chatId: string): void {
    this.rules.push((req) =>
      req.params.chat_id === chatId
        ? { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: chat not found" } }
        : undefined,
    );
  }

  /** Chat `from` became supergroup `to`: messages to `from` are refused with migrate_to_chat_id. */
  migrateChat(from: string, to: string): void {
    this.rules.push((req) => {
      if (req.method !== "sendMessage" || req.params.chat_id !== from) return undefined;
      return {
        status: 400,
        body: {
          ok: false,
          error_code: 400,
          description: "Bad Request: group chat was upgraded to a supergroup chat",
          parameters: { migrate_to_chat_id: Number(to) },
        },
      };
    });
  }

  /** Messages received for one chat, in arrival order. */
  messagesFor(chatId: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.chatId === chatId);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const record: ReceivedRequest = {
      method: match?.[2] ?? "",
      token: match?.[1] ?? "",
      params,
      at: Date.now(),
      status: 200,
    };
    let reply: { status: number; body: unknown } | undefined;
    if (!match) reply = { status: 404, body: { ok: false, error_code: 404, description: "Not Found" } };
    for (const rule of this.rules) {
      reply ??= rule(record);
      if (reply) break;
    }
    if (!reply) {
      if (record.method === "sendMessage") {
        this.messages.push({
          chatId: params.chat_id ?? "",
          text: params.text ?? "",
          parseMode: params.parse_mode,
          disableNotification: params.disable_notification === "true",
          at: record.at,
        });
        reply = {
          status: 200,
          body: {
            ok: true,
            result: {
              message_id: this.nextMessageId++,
              date: Math.floor(record.at / 1000),
              text: params.text,
            },
          },
        };
      } else if (record.method === "getChat") {
        const id = params.chat_id ?? "";
        reply = {
          status: 200,
          body: { ok: true, result: { id: Number(id) || 0, type: "group", title: `chat ${id}` } },
        };
      } else if (record.method === "getMe") {
        reply = {
          status: 200,
          body: { ok: true, result: { id: 1, is_bot: true, first_name: "warden", username: "warden_bot" } },
        };
      } else {
        reply = {
          status: 404,
          body: { ok: false, error_code: 404, description: "Not Found: method not found" },
        };
      }
    }
    record.status = reply.status;
    this.requests.push(record);
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
  }
}
