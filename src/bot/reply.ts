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

/**
 * A bot reply without absolute paths (a group's members need not learn the host's layout): the
 * known roots become their names (`sessionsDir/acme`, `WARDEN_HOME/backups`), any other absolute
 * path of two segments or more keeps its last one (`…/creds.json`). Command names ("/pair") stay.
 */
export function hidePaths(text: string, roots: readonly { path: string; name: string }[]): string {
  let out = text;
  for (const root of [...roots].sort((a, b) => b.path.length - a.path.length))
    if (root.path.length > 1) out = out.split(root.path).join(root.name);
  return out.replace(
    /(^|[\s(>"'=`])\/(?:[^\s<>"'`/]+\/)+([^\s<>"'`/]*)/g,
    (_m, before: string, last: string) => (last ? `${before}…/${last}` : `${before}…/`),
  );
}
