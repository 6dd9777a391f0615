/**
 * pino JSON lines made readable for `npm run logs` (no extra dependency): "12:03:04 WARN
 * [supervisor] message key=value". Lines that are not pino JSON (pm2's own, a prefix added by
 * pm2's `time: true`) pass through unchanged.
 */

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const SKIP = new Set(["level", "time", "msg", "pid", "hostname", "component", "v"]);

/** One log line in readable form. */
export function prettyLogLine(line: string): string {
  const start = line.indexOf("{");
  if (start < 0) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line.slice(start)) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== "number" || typeof entry.msg !== "string") return line;
  const time = typeof entry.time === "number" ? new Date(entry.time).toISOString().slice(11, 19) : "--:--:--";
  const level = (LEVELS[entry.level] ?? String(entry.level)).padEnd(5);
  const component = typeof entry.component === "string" ? ` [${entry.component}]` : "";
  const extra = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => {
      if (k === "err" && v && typeof v === "object" && "message" in v) return `err=${String(v.message)}`;
      return `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
    });
  return `${time} ${level}${component} ${entry.msg}${extra.length > 0 ? `  ${extra.join(" ")}` : ""}`;
}
