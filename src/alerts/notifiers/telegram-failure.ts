/**
 * Every Telegram failure named the same way: the method, the HTTP status and Telegram's
 * description, or "no description" when the Bot API (a proxy, an emulator, an outage page) answers
 * without one. The client builds `TelegramApiError(error_code, description)` from the body alone,
 * so a body without them read "undefined: undefined" and crashed the doctor's scrubbing; the
 * fetch below fills in what the body left out (from the HTTP response) before the client reads it.
 */
import { NetworkError, TelegramApiError, TimeoutError } from "node-telegram-bot-api";
import type { Logger } from "../../logger.js";

/** Where the fetch below records the method and HTTP status (kept in the error's `parameters`). */
interface FailureFacts {
  warden_method?: string;
  warden_http_status?: number;
}

const methodOf = (url: string): string => /\/bot[^/]*\/(\w+)(?:\?|$)/.exec(url)?.[1] ?? "request";

/**
 * A fetch for the Telegram client: a failed answer's body gets `error_code` (the HTTP status) when
 * it has none, and the method and HTTP status in `parameters`, so the error can name them.
 */
export function telegramFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.ok) return response;
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {
      // Not JSON (an HTML error page): the status and method still name the failure.
      body = {};
    }
    const facts: FailureFacts = { warden_method: methodOf(url), warden_http_status: response.status };
    const patched = {
      ...body,
      ok: false,
      error_code: typeof body.error_code === "number" ? body.error_code : response.status,
      parameters: { ...(body.parameters as object | undefined), ...facts },
    };
    // The client retries 5xx by status, without reading the body: keep the status as it was.
    return new Response(JSON.stringify(patched), {
      status: response.status,
      statusText: response.statusText,
      headers: { "content-type": "application/json" },
    });
  };
}

/** The innermost cause's code and message: fetch wraps "connect ECONNREFUSED 127.0.0.1:9" twice. */
export function rootCause(err: unknown): string {
  let at = err as { cause?: unknown; code?: string; message?: string } | undefined;
  let best = (err as Error).message;
  for (let depth = 0; at && depth < 5; depth++) {
    if (at.code)
      best = at.message?.includes(at.code) ? at.message : `${at.code}${at.message ? ` (${at.message})` : ""}`;
    else if (at.message && at !== err) best = at.message;
    at = at.cause as typeof at;
  }
  return best;
}

/** True for an answer from the Bot API (as opposed to a network failure). */
export function isTelegramRefusal(err: unknown): err is TelegramApiError {
  return err instanceof TelegramApiError;
}

/**
 * One line naming a Telegram failure: "Telegram refused sendPhoto (HTTP 400, error 400): no
 * description", "network failed on getMe: ECONNREFUSED ...". `fallbackMethod` names the call when
 * the error cannot (a client built without telegramFetch). Never throws.
 */
export function describeTelegramError(err: unknown, fallbackMethod?: string): string {
  if (err instanceof TelegramApiError) {
    const facts = (err.parameters ?? {}) as FailureFacts;
    const method = facts.warden_method ?? fallbackMethod ?? "a request";
    const status = facts.warden_http_status;
    const code = typeof err.errorCode === "number" ? err.errorCode : undefined;
    const where = [
      status !== undefined ? `HTTP ${status}` : undefined,
      code !== undefined && code !== status ? `error ${code}` : undefined,
    ].filter(Boolean);
    const description =
      typeof err.description === "string" && err.description.trim() !== ""
        ? err.description
        : "no description";
    return `Telegram refused ${method}${where.length > 0 ? ` (${where.join(", ")})` : ""}: ${description}`;
  }
  if (err instanceof NetworkError || err instanceof TimeoutError) {
    const method = /(?:failed|timed out|on): (\w+)$|on (\w+)$/.exec(err.message);
    const name = method?.[1] ?? method?.[2] ?? fallbackMethod;
    const kind = err instanceof TimeoutError ? "timed out" : "network failed";
    return `${kind}${name ? ` on ${name}` : ""}: ${rootCause(err)}`;
  }
  if (err instanceof Error) return `${fallbackMethod ? `${fallbackMethod} failed: ` : ""}${err.message}`;
  return String(err);
}

/**
 * Logs a failure that may repeat every second (a QR photo, a poll) at most once per `everyMs` per
 * key: the first at once, later ones as one line with how many times it happened since.
 */
export class FailureLog {
  private readonly seen = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(
    private readonly logger: Pick<Logger, "warn">,
    private readonly now: () => number,
    private readonly everyMs = 60_000,
  ) {}

  /** Logs `text` for `key` unless it was logged within `everyMs`; then it is counted. */
  report(key: string, text: string, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.loggedAt < this.everyMs) {
      entry.suppressed += 1;
      return;
    }
    const repeats = entry?.suppressed ?? 0;
    this.logger.warn(
      { ...fields, repeats },
      repeats > 0
        ? `${text} (failed ${repeats + 1} times in the last ${Math.round((now - (entry?.loggedAt ?? now)) / 1000)}s)`
        : text,
    );
    this.seen.set(key, { loggedAt: now, suppressed: 0 });
  }

  /** Forgets `key` (it succeeded): its next failure is logged at once. */
  clear(key: string): void {
    this.seen.delete(key);
  }
}
