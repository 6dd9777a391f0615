/**
 * Progress on stderr for long CLI work. On a terminal: one bar redrawn in place. Otherwise (cron,
 * pipes, CI logs): a line at every 10% so logs stay readable. stdout is left to the result (and to
 * --json), so scripts can parse it while a human still sees progress.
 */

/** A progress reporter; `done()` ends the line. */
export interface Progress {
  update(done: number, total: number, label?: string): void;
  done(): void;
}

/** A progress reporter writing to `stream` (default stderr); `enabled: false` prints nothing. */
export function createProgress(
  title: string,
  options: { stream?: NodeJS.WriteStream; enabled?: boolean } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false) return { update: () => undefined, done: () => undefined };
  const tty = stream.isTTY === true;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total, label = "") {
      const share = total === 0 ? 1 : done / total;
      if (tty) {
        const width = 24;
        const filled = Math.round(share * width);
        const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
        stream.write(`\r${title} [${bar}] ${done}/${total} ${label}`.padEnd(80).slice(0, 120));
        drawn = true;
        return;
      }
      const tenth = Math.floor(share * 10);
      if (tenth === lastTenth && done !== total) return;
      lastTenth = tenth;
      stream.write(`${title}: ${done}/${total}${label ? ` ${label}` : ""}\n`);
    },
    done() {
      if (tty && drawn) stream.write("\n");
      drawn = false;
    },
  };
}
