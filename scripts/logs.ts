/**
 * `npm run logs [-- --lines N] [app]`: pm2's logs of warden-supervisor and warden-worker, pino JSON
 * turned into readable lines (src/cli/pretty-log.ts). Follows until Ctrl-C, like `pm2 logs`.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { prettyLogLine } from "../src/cli/pretty-log.js";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const linesAt = args.indexOf("--lines");
const lines = linesAt >= 0 ? (args[linesAt + 1] ?? "50") : "50";
const app = args.find((a, i) => !a.startsWith("--") && i !== linesAt + 1);
const child = spawn(
  path.join(root, "node_modules", ".bin", "pm2"),
  ["logs", "--raw", "--lines", lines, app ?? "/^warden-/"],
  { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
);
for (const stream of [child.stdout, child.stderr]) {
  createInterface({ input: stream }).on("line", (line) => process.stdout.write(`${prettyLogLine(line)}\n`));
}
child.on("close", (code) => process.exit(code ?? 0));
process.on("SIGINT", () => child.kill("SIGINT"));
