/**
 * A Telegram Bot API server on 127.0.0.1 for tests: the real client talks HTTP to it. It records
 * sendMessage calls and can be told to answer 429 with retry_after, to migrate a group chat, or to
 * go down and come back on the same port. For the bot: getUpdates long-polls (honouring `timeout`
 * and `offset`: an offset confirms every earlier update), "users" send messages and press buttons
 * (`userSends`, `userPresses`), photos arrive as multipart (sendPhoto, editMessageMedia), and
 * getUpdates can be made to answer 409 Conflict.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { waitFor } from "./wait-for.js";

/** A message the server accepted. */
export interface ReceivedMessage {
  chatId: string;
  text: string;
  parseMode: string | undefined;
  disableNotification: boolean;
  at: number;
  messageId: number;
  /** Inline keyboard, when the message had one (removed by editMessageReplyMarkup). */
  buttons: { text: string; callback_data: string }[][] | undefined;
  /** How many times editMessageText replaced its text. */
  edits?: number;
}

/** A photo in a chat (sendPhoto), replaced in place by editMessageMedia, gone after deleteMessage. */
export interface ReceivedPhoto {
  chatId: string;
  messageId: number;
  png: Buffer;
  caption: string;
  /** How many times editMessageMedia replaced it. */
  edits: number;
  deleted: boolean;
}

/** An update as Telegram would deliver it (the fields the bot reads). */
export type FakeUpdate = { update_id: number } & Record<string, unknown>;

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
/** One canned Bot API answer: the HTTP status and the JSON body. */
type Reply = { status: number; body: unknown };

export class BotApiServer {
  readonly messages: ReceivedMessage[] = [];
  readonly requests: ReceivedRequest[] = [];
  private readonly rules: Rule[] = [];
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly photos: ReceivedPhoto[] = [];
  /** answerCallbackQuery calls: query id and text. */
  readonly callbackAnswers: { id: string; text: string }[] = [];
  /** The last command list set with setMyCommands. */
  commands: { command: string; description: string }[] = [];
  private readonly updates: FakeUpdate[] = [];
  private readonly sent = new Map<number, FakeUpdate>();
  private readonly pollWaiters = new Set<() => void>();
  private conflictLeft = 0;
  private hanging = false;
  private nextUpdateId = 1;
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

  /**
   * From now on sendMessage requests are recorded (status 0) and never answered: a Bot API that
   * accepts connections but hangs. `stop()` drops them.
   */
  hangSendMessage(): void {
    this.hanging = true;
  }

  /**
   * The next `count` calls of `method` are refused with HTTP `status` and a body without
   * `error_code` or `description` (`{"ok":false}`), as a proxy or an emulator may answer; with
   * `chatId`, only the calls for that chat.
   */
  refuseWithoutDescription(
    method: string,
    options: { status?: number; count?: number; chatId?: string } = {},
  ): void {
    const status = options.status ?? 400;
    let left = options.count ?? Number.POSITIVE_INFINITY;
    this.rules.push((req) => {
      if (req.method !== method || left <= 0) return undefined;
      if (options.chatId !== undefined && req.params.chat_id !== options.chatId) return undefined;
      left--;
      return { status, body: { ok: false } };
    });
  }

  /** The next `count` getUpdates calls answer 409 Conflict (another poller). */
  conflictNext(count: number): void {
    this.conflictLeft = count;
  }

  /** A user sends `text` in a chat (private chat when the id is positive); returns the update id. */
  userSends(chatId: number, userId: number, text: string): number {
    return this.push({ message: this.messageBody(chatId, userId, text) });
  }

  private messageBody(chatId: number, userId: number, text: string): Record<string, unknown> {
    return {
      message_id: this.nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: chatId < 0 ? "supergroup" : "private" },
      from: { id: userId, is_bot: false, first_name: `user${userId}`, username: `user${userId}` },
      text,
      ...(text.startsWith("/")
        ? { entities: [{ type: "bot_command", offset: 0, length: text.split(/\s/)[0]?.length ?? 1 }] }
        : {}),
    };
  }

  /** Sends a command as a user and waits for the next message the bot sends to that chat. */
  async answerTo(chatId: number, userId: number, text: string, timeoutMs = 15_000): Promise<ReceivedMessage> {
    const before = this.messagesFor(String(chatId)).length;
    this.userSends(chatId, userId, text);
    return waitFor(() => this.messagesFor(String(chatId))[before], { what: `answer to ${text}`, timeoutMs });
  }

  /** Waits until the poller has confirmed update `updateId` (it asked for a later offset). */
  async handled(updateId: number, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      () => this.requests.some((r) => r.method === "getUpdates" && Number(r.params.offset) > updateId),
      { what: `update ${updateId} acknowledged`, timeoutMs },
    );
  }

  /** Delivers any update body (a forwarded message, a channel post); returns the update id. */
  deliver(body: Record<string, unknown>): number {
    return this.push(body);
  }

  /** A user forwards someone else's message into a chat; returns the update id. */
  userForwards(chatId: number, userId: number, text: string): number {
    const forward_origin = {
      type: "user",
      date: 1,
      sender_user: { id: 1234, is_bot: false, first_name: "x" },
    };
    return this.push({ message: { ...this.messageBody(chatId, userId, text), forward_origin } });
  }

  /** A user presses an inline button under a message; returns the callback query id. */
  userPresses(message: ReceivedMessage, userId: number, buttonText: string): string {
    const button = message.buttons?.flat().find((b) => b.text === buttonText);
    if (!button) throw new Error(`no button "${buttonText}" under message ${message.messageId}`);
    return this.pressData(Number(message.chatId), message.messageId, userId, button.callback_data);
  }

  /** A callback query with raw data (a stale or forged button). */
  pressData(chatId: number, messageId: number, userId: number, data: string): string {
    const id = `cq${this.nextUpdateId}`;
    this.push({
      callback_query: {
        id,
        from: { id: userId, is_bot: false, first_name: `user${userId}`, username: `user${userId}` },
        message: {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chatId, type: chatId < 0 ? "supergroup" : "private" },
        },
        chat_instance: String(chatId),
        data,
      },
    });
    return id;
  }

  /** Updates not yet confirmed by an offset (what a restarted poller would get again). */
  get unconfirmed(): readonly FakeUpdate[] {
    return this.updates;
  }

  /**
   * Telegram sends an update again, as it does when the poller was killed after handling it but
   * before its next getUpdates confirmed it.
   */
  redeliver(updateId: number): void {
    const update = this.sent.get(updateId);
    if (!update) throw new Error(`update ${updateId} was never delivered`);
    this.updates.unshift(update);
    for (const wake of this.pollWaiters) wake();
  }

  private push(body: Record<string, unknown>): number {
    const update = { update_id: this.nextUpdateId++, ...body };
    this.sent.set(update.update_id, update);
    this.updates.push(update);
    for (const wake of this.pollWaiters) wake();
    return update.update_id;
  }

  /** Messages received for one chat, in arrival order. */
  messagesFor(chatId: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.chatId === chatId);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    const body = Buffer.concat(chunks);
    const contentType = req.headers["content-type"] ?? "";
    const files = new Map<string, Buffer>();
    let params: Record<string, string>;
    if (contentType.startsWith("multipart/form-data")) {
      const form = await new Response(body, { headers: { "content-type": contentType } }).formData();
      params = {};
      for (const [key, value] of form.entries()) {
        if (typeof value === "string") params[key] = value;
        else files.set(key, Buffer.from(await value.arrayBuffer()));
      }
    } else params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    const record: ReceivedRequest = {
      method: match?.[2] ?? "",
      token: match?.[1] ?? "",
      params,
      at: Date.now(),
      status: 200,
    };
    if (this.hanging && record.method === "sendMessage") {
      record.status = 0;
      this.requests.push(record);
      return;
    }
    let reply: { status: number; body: unknown } | undefined;
    if (!match) reply = { status: 404, body: { ok: false, error_code: 404, description: "Not Found" } };
    for (const rule of this.rules) {
      reply ??= rule(record);
      if (reply) break;
    }
    if (!reply && record.method === "getUpdates") {
      const answer = await this.getUpdates(params, res);
      if (answer === undefined) return; // the client went away
      reply = answer;
    }
    reply ??= this.answer(record, params, files);
    record.status = reply.status;
    this.requests.push(record);
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
  }

  private ok(result: unknown) {
    return { status: 200, body: { ok: true, result } };
  }

  private sendMessage(record: ReceivedRequest, params: Record<string, string>, date: number): Reply {
    const messageId = this.nextMessageId++;
    const markup = params.reply_markup ? (JSON.parse(params.reply_markup) as { inline_keyboard?: [] }) : {};
    this.messages.push({
      chatId: params.chat_id ?? "",
      text: params.text ?? "",
      parseMode: params.parse_mode,
      disableNotification: params.disable_notification === "true",
      at: record.at,
      messageId,
      buttons: markup.inline_keyboard,
    });
    return this.ok({
      message_id: messageId,
      date,
      text: params.text,
      chat: { id: Number(params.chat_id) },
    });
  }

  private sendPhoto(params: Record<string, string>, files: Map<string, Buffer>, date: number): Reply {
    const png = files.get("photo");
    if (!png)
      return { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: no photo" } };
    const messageId = this.nextMessageId++;
    this.photos.push({
      chatId: params.chat_id ?? "",
      messageId,
      png,
      caption: params.caption ?? "",
      edits: 0,
      deleted: false,
    });
    return this.ok({ message_id: messageId, date, chat: { id: Number(params.chat_id) }, photo: [] });
  }

  private editMessageMedia(params: Record<string, string>, files: Map<string, Buffer>, date: number): Reply {
    const photo = this.photoAt(params);
    const media = JSON.parse(params.media ?? "{}") as { media?: string; caption?: string };
    const png = files.get((media.media ?? "").replace(/^attach:\/\//, ""));
    if (!photo || !png)
      return {
        status: 400,
        body: { ok: false, error_code: 400, description: "Bad Request: message to edit not found" },
      };
    photo.png = png;
    photo.caption = media.caption ?? "";
    photo.edits++;
    return this.ok({
      message_id: photo.messageId,
      date,
      chat: { id: Number(params.chat_id) },
      photo: [],
    });
  }

  private editMessageText(params: Record<string, string>, date: number): Reply {
    const message = this.messages.find(
      (m) => m.chatId === params.chat_id && String(m.messageId) === params.message_id,
    );
    if (!message)
      return {
        status: 400,
        body: { ok: false, error_code: 400, description: "Bad Request: message to edit not found" },
      };
    message.text = params.text ?? "";
    message.buttons = params.reply_markup
      ? (JSON.parse(params.reply_markup) as { inline_keyboard?: [] }).inline_keyboard
      : undefined;
    message.edits = (message.edits ?? 0) + 1;
    return this.ok({
      message_id: message.messageId,
      date,
      text: message.text,
      chat: { id: Number(params.chat_id) },
    });
  }

  private answer(record: ReceivedRequest, params: Record<string, string>, files: Map<string, Buffer>): Reply {
    const date = Math.floor(record.at / 1000);
    switch (record.method) {
      case "sendMessage":
        return this.sendMessage(record, params, date);
      case "sendPhoto":
        return this.sendPhoto(params, files, date);
      case "editMessageMedia":
        return this.editMessageMedia(params, files, date);
      case "deleteMessage": {
        const photo = this.photoAt(params);
        if (photo) photo.deleted = true;
        const message = this.messages.find(
          (m) => m.chatId === params.chat_id && String(m.messageId) === params.message_id,
        );
        return photo || message
          ? this.ok(true)
          : {
              status: 400,
              body: { ok: false, error_code: 400, description: "Bad Request: message to delete not found" },
            };
      }
      case "editMessageText":
        return this.editMessageText(params, date);
      case "editMessageReplyMarkup": {
        const message = this.messages.find(
          (m) => m.chatId === params.chat_id && String(m.messageId) === params.message_id,
        );
        if (message)
          message.buttons = (
            JSON.parse(params.reply_markup ?? "{}") as { inline_keyboard?: [] }
          ).inline_keyboard;
        return this.ok(true);
      }
      case "answerCallbackQuery":
        this.callbackAnswers.push({ id: params.callback_query_id ?? "", text: params.text ?? "" });
        return this.ok(true);
      case "setMyCommands":
        this.commands = JSON.parse(params.commands ?? "[]") as typeof this.commands;
        return this.ok(true);
      case "getChat": {
        const id = params.chat_id ?? "";
        return this.ok({ id: Number(id) || 0, type: "group", title: `chat ${id}` });
      }
      case "getMe":
        return this.ok({ id: 1, is_bot: true, first_name: "warden", username: "warden_test_bot" });
      default:
        return {
          status: 404,
          body: { ok: false, error_code: 404, description: "Not Found: method not found" },
        };
    }
  }

  private photoAt(params: Record<string, string>): ReceivedPhoto | undefined {
    return this.photos.find(
      (p) => p.chatId === params.chat_id && String(p.messageId) === params.message_id && !p.deleted,
    );
  }

  /** Long poll: confirms updates below `offset`, answers at once when some wait, else within `timeout`. */
  private async getUpdates(
    params: Record<string, string>,
    res: http.ServerResponse,
  ): Promise<{ status: number; body: unknown } | undefined> {
    if (this.conflictLeft > 0) {
      this.conflictLeft--;
      return {
        status: 409,
        body: {
          ok: false,
          error_code: 409,
          description:
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        },
      };
    }
    const offset = Number(params.offset ?? 0);
    if (offset > 0) {
      while (this.updates.length > 0 && (this.updates[0]?.update_id ?? 0) < offset) this.updates.shift();
    }
    if (this.updates.length === 0) {
      const timeoutMs = Number(params.timeout ?? 0) * 1_000;
      const gone = await new Promise<boolean>((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          this.pollWaiters.delete(wake);
          res.off("close", onClose);
          resolve(value);
        };
        const wake = () => done(false);
        const onClose = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        this.pollWaiters.add(wake);
        res.on("close", onClose);
      });
      if (gone) return undefined;
    }
    const limit = Number(params.limit ?? 100);
    return this.ok(this.updates.slice(0, limit));
  }
}
