/**
 * The fleet scanner's event sources: which company folders to rescan, learned from the file system.
 *
 * Event sources (measured on 1,000 folders x 200 files, see docs/architecture.md):
 * - chokidar, depth 0, on sessionsDir: company folders appearing and disappearing;
 * - one native fs.watch per company folder for the files inside it. chokidar on the files
 *   themselves puts one inotify watch on every file (ENOSPC past max_user_watches, 1.3 GB RSS) and
 *   stats every file on every directory event; a folder watch costs one inotify watch and no stat.
 * - one fs.watch on WARDEN_HOME/auth/: a database company's writes land in `<company>.sqlite` and
 *   its `-wal`, not in its folder.
 * If watching fails (ENOSPC, EMFILE...) it reports it once and drops to scan-only mode: the scanner
 * (`fleet-scanner.ts`) keeps working on its reconcile scans alone.
 */
import { watch as fsWatch, mkdirSync, type FSWatcher as NodeWatcher } from "node:fs";
import path from "node:path";
import { watch as chokidarWatch, type FSWatcher } from "chokidar";
import { isCompanyId } from "../config/company-id.js";
import type { ScannerMode, ScannerReport } from "./scanner-types.js";

/** What the watcher needs of its scanner: where to watch, what to rescan, how to report. */
export interface FleetWatcherHost {
  sessionsDir: string;
  reconcileEveryMs: number;
  /** True once the scanner is closing. */
  isClosed(): boolean;
  /** The companies currently present (each gets a folder watch when watching starts). */
  companies(): Iterable<string>;
  /** Recounts one company after the debounce delay. */
  schedule(company: string): void;
  /** Runs (or queues) a full scan. */
  fullScan(): void;
  /** True when the report under `key` was already given. */
  hasReported(key: string): boolean;
  /** Gives a report once per key. */
  reportOnce(key: string, report: ScannerReport): void;
  /** WARDEN_HOME/auth/ (created if missing): writes of database companies schedule their recount. */
  authDir?: string;
}

/** Folder watches started between two event-loop turns when watching starts. */
const WATCH_BATCH = 500;

/** The root watcher on sessionsDir and one folder watcher per company; falls back to scan-only. */
export class FleetWatcher {
  private readonly host: FleetWatcherHost;
  private readonly folderWatchers = new Map<string, NodeWatcher>();
  private authWatcher: NodeWatcher | undefined;
  private rootWatcher: FSWatcher | undefined;
  private rootFailed: (() => void) | undefined;
  private currentMode: ScannerMode = "scan-only";

  constructor(host: FleetWatcherHost) {
    this.host = host;
  }

  /** Current event mode. */
  get mode(): ScannerMode {
    return this.currentMode;
  }

  /** Starts the root watcher, then a folder watcher per known company; resolves once ready or failed. */
  async start(): Promise<void> {
    const { sessionsDir } = this.host;
    const root = chokidarWatch(sessionsDir, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      persistent: true,
    });
    this.rootWatcher = root;
    root.on("addDir", (dir) => this.onRootEvent(dir));
    root.on("unlinkDir", (dir) => this.onRootEvent(dir));
    root.on("add", (file) => this.onRootEvent(file));
    // chokidar's close() drops every listener, "ready" included: a watcher failing before it is
    // ready must still let start() go on (and the reconcile timer start).
    const settled = new Promise<void>((resolve) => {
      root.once("ready", resolve);
      this.rootFailed = resolve;
    });
    root.on("error", (err) => this.onWatchError(err as NodeJS.ErrnoException));
    await settled;
    this.rootFailed = undefined;
    if (this.host.isClosed() || this.rootWatcher !== root) return;
    this.currentMode = "events";
    this.watchAuthDir();
    // A turn every WATCH_BATCH folders: 10,000 fs.watch calls in one turn held the loop ~250 ms
    // (alerts, bot replies and file events waited). Iterating the live set: a company noted
    // meanwhile is visited (watchFolder skips one already watched), one forgotten is not.
    let inBatch = 0;
    for (const company of this.host.companies()) {
      this.watchFolder(company);
      if (this.currentMode !== "events") return;
      if (++inBatch < WATCH_BATCH) continue;
      inBatch = 0;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.host.isClosed() || this.currentMode !== "events") return;
    }
    // Anything created while the watchers were being set up.
    this.host.fullScan();
  }

  /** Stops every watcher and lets a pending start() go on; idempotent. */
  async close(): Promise<void> {
    this.closeFolderWatchers();
    await this.rootWatcher?.close();
    this.rootWatcher = undefined;
    this.rootFailed?.();
  }

  /** Watches one company folder's files (each change schedules a recount). */
  watchFolder(company: string): void {
    if (this.folderWatchers.has(company) || this.host.isClosed()) return;
    const dir = path.join(this.host.sessionsDir, company);
    try {
      const watcher = fsWatch(dir, { persistent: true }, () => this.host.schedule(company));
      watcher.on("error", (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EPERM") this.host.schedule(company);
        else this.onWatchError(err as NodeJS.ErrnoException);
      });
      this.folderWatchers.set(company, watcher);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      this.onWatchError(err as NodeJS.ErrnoException);
    }
  }

  /** One watch on the auth databases: `<company>.sqlite[-wal|-shm]` changed → recount that company. */
  private watchAuthDir(): void {
    const dir = this.host.authDir;
    if (dir === undefined || this.authWatcher) return;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.authWatcher = fsWatch(dir, { persistent: true }, (_event, file) => {
        const company = file ? /^(.+)\.sqlite(?:-wal|-shm|-journal)?$/.exec(String(file))?.[1] : undefined;
        if (company !== undefined && isCompanyId(company)) this.host.schedule(company);
      });
      this.authWatcher.on("error", (err) => this.onWatchError(err as NodeJS.ErrnoException));
    } catch (err) {
      this.onWatchError(err as NodeJS.ErrnoException);
    }
  }

  /** Stops watching a company folder that disappeared. */
  unwatchFolder(company: string): void {
    this.folderWatchers.get(company)?.close();
    this.folderWatchers.delete(company);
  }

  private onRootEvent(entryPath: string): void {
    const name = path.relative(this.host.sessionsDir, entryPath);
    if (!name || name.includes(path.sep)) return;
    if (isCompanyId(name)) this.host.schedule(name);
    else this.host.fullScan();
  }

  private onWatchError(err: NodeJS.ErrnoException): void {
    if (this.currentMode === "scan-only" && this.host.hasReported("watcher-fallback")) return;
    this.currentMode = "scan-only";
    this.closeFolderWatchers();
    const root = this.rootWatcher;
    this.rootWatcher = undefined;
    void root?.close();
    this.rootFailed?.();
    const hint =
      err.code === "ENOSPC"
        ? " (raise fs.inotify.max_user_watches)"
        : err.code === "EMFILE"
          ? " (raise the open files limit)"
          : "";
    this.host.reportOnce("watcher-fallback", {
      kind: "watcher-fallback",
      message: `File watching failed: ${err.code ?? err.message}${hint}. Falling back to a full scan every ${Math.round(this.host.reconcileEveryMs / 1000)}s`,
    });
  }

  private closeFolderWatchers(): void {
    this.authWatcher?.close();
    this.authWatcher = undefined;
    for (const watcher of this.folderWatchers.values()) watcher.close();
    this.folderWatchers.clear();
  }
}
