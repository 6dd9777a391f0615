/**
 * Re-reads the configuration when warden.json or a companies/*.json file changes. A good edit is
 * handed over as a whole new config; a bad one is reported and the last good config stays.
 */
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { describeError } from "../errors.js";
import { loadConfig, type WardenConfig } from "./load.js";

/** Callbacks and timing of the config watcher. */
export interface ConfigWatcherOptions {
  file: string;
  debounceMs?: number;
  onChange(config: WardenConfig): void;
  onError(message: string): void;
}

/** A running config watcher. */
export interface ConfigWatcher {
  /** Resolves once watching has started. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Starts watching warden.json and its companies/ folder. */
export function watchConfig(options: ConfigWatcherOptions): ConfigWatcher {
  const dir = path.dirname(options.file);
  const companies = path.join(dir, "companies");
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // The folder, not the file: a watch on the file dies with its inode, and editors save by writing
  // a temp file and renaming it over warden.json (or deleting and recreating it). Watching the file
  // went deaf after the first such save (invariant 6); events of other files in the folder are ignored.
  // One root (a missing companies/ folder as a second root made chokidar report "ready" before the
  // folder was watched, and an edit right after start-up was lost); depth 1 reaches companies/*.json.
  const watcher: FSWatcher = watch(dir, {
    ignoreInitial: true,
    depth: 1,
    ignored: (p: string) =>
      p !== dir && p !== options.file && p !== companies && path.dirname(p) !== companies,
  });
  const reload = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (closed) return;
      try {
        options.onChange(loadConfig(options.file));
      } catch (err) {
        options.onError(describeError(err));
      }
    }, options.debounceMs ?? 250);
  };
  watcher.on("all", (_event, changed) => {
    if (changed === options.file || (path.dirname(changed) === companies && changed.endsWith(".json")))
      reload();
  });
  watcher.on("error", (err) => options.onError(`config watcher: ${describeError(err)}`));
  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
