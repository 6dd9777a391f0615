/** Replies as Telegram takes them: HTML-escaped by the callers, split below 4096 characters. */

/** Telegram's limit on a message's text. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/**
 * Splits a message into parts of at most `limit` characters, at line breaks where possible (a line
 * longer than the limit is cut). Callers keep tags within one line so a cut never splits a tag.
 */
export function splitMessage(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    for (let piece = line; ; ) {
      const chunk = piece.slice(0, limit);
      const joined = current === "" ? chunk : `${current}\n${chunk}`;
      if (joined.length <= limit) current = joined;
      else {
        parts.push(current);
        current = chunk;
      }
      piece = piece.slice(limit);
      if (piece === "") break;
    }
  }
  if (current !== "" || parts.length === 0) parts.push(current);
  return parts;
}
