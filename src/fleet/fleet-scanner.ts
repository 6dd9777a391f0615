/**
 * Watches sessionsDir and keeps every company's counts current: file events (debounced per company)
 * plus a periodic full reconcile scan, which alone keeps things right if events are lost.
 *
 * Event sources (measured on 1,000 folders x 200 files, see docs/architecture.md):
 * - chokidar, depth 0, on sessionsDir: company folders appearing and disappearing;
 * - one native fs.watch per company folder for the files inside it. chokidar on the files
 *   themselves puts one inotify watch on every file (ENOSPC past max_user_watches, 1.3 GB RSS) and
 *   stats every file on every directory event; a folder watch costs one inotify watch and no stat.
 * If watching fails (ENOSPC, EMFILE...) the scanner reports it once and keeps working on scans only.
 */
import { watch as fsWatch, lstatSync, type FSWatcher as NodeWatcher } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { watch as chokidarWatch, type FSWatcher } from "chokidar";
import type { Clock } from "../clock.js";
import { isCompanyId } from "../config/company-id.js";
import type { Logger } from "../logger.js";
import { ATOMIC_TMP_PREFIX } from "./classify-file.js";
import { type CredsCache, ENTRY_KIND_WORDS, type FolderSnapshot, scanFolderSync } from "./scan-folder.js";

/** Something the operator should hear about once (not on every scan). */
export interface ScannerReport {
  kind: "watcher-fallback" | "irregular-entry" | "invalid-folder" | "scan-failed";
  message: string;
  company?: string;
}

/** What the scanner needs. */
export interface FleetScannerOptions {
  sessionsDir: string;
  debounceMs: number;
  reconcileEveryMs: number;
  logger: Logger;
  clock: Clock;
  /** Receives each batch of fresh snapshots (one company after an event, all after a full scan). */
  onSnapshots(snapshots: FolderSnapshot[]): void;
  /** A company folder disappeared. */
  onRemoved(company: string): void;
  /** Reports worth telling an operator, each given once per process. */
  onReport(report: ScannerReport): void;
  /** Told how long each full scan took (the supervisor's scan duration metric). */
  onFullScan?(durationMs: number): void;
  /** false: scans only (tests, the CLI). Default true. */
  watch?: boolean;
  /** Folders scanned between two event-loop turns during a full scan. Default 25. */
  batchSize?: number;
  /**
   * A company's pre-key floor (the resolved cleanup.keepPreKeys): only pre-keys below it are
   * stat'ed, since only their cleanup rule looks at age. Default: every pre-key.
   */
  preKeyFloor?: (company: string) => number;
}

/** How the scanner currently learns about changes. */
export type ScannerMode = "events" | "scan-only";

/** The fleet scanner; `start()` resolves after the first full scan. */
export class FleetScanner {
  private readonly options: FleetScannerOptions;
  private readonly known = new Set<string>();
  private readonly credsCache: CredsCache = new Map();
  /** Per company, the mtimes its last full scan stat'ed (event scans reuse them: no stat per file). */
  private readonly mtimeCache = new Map<string, ReadonlyMap<string, number>>();
  private readonly reported = new Set<string>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly scanSeq = new Map<string, number>();
  private readonly folderWatchers = new Map<string, NodeWatcher>();
  private rootWatcher: FSWatcher | undefined;
  private rootFailed: (() => void) | undefined;
  private rescan: Promise<void> | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private fullScanRunning: Promise<void> | undefined;
  private closed = false;
  private currentMode: ScannerMode = "scan-only";

  constructor(options: FleetScannerOptions) {
    this.options = options;
  }

  /** Current event mode. */
  get mode(): ScannerMode {
    return this.currentMode;
  }

  /** Companies currently present. */
  get companies(): ReadonlySet<string> {
    return this.known;
  }

  /** Creates sessionsDir if needed, runs the first full scan, then starts watching and reconciling. */
  async start(): Promise<void> {
    await mkdir(this.options.sessionsDir, { recursive: true });
    await this.fullScan();
    if (this.closed) return;
    if (this.options.watch !== false) await this.startWatching();
    this.scheduleReconcile();
  }

  /**
   * Scans every company folder. A call while a scan runs gets one more scan after it (shared by
   * every such caller), so the result always reflects the folders as they were at the call.
   */
  fullScan(): Promise<void> {
    if (!this.fullScanRunning) {
      this.fullScanRunning = this.runFullScan().finally(() => {
        this.fullScanRunning = undefined;
      });
      return this.fullScanRunning;
    }
    this.rescan ??= this.fullScanRunning
      .catch(() => undefined)
      .then(() => {
        this.rescan = undefined;
        return this.fullScan();
      });
    return this.rescan;
  }

  /** Stops watchers and timers; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.closeFolderWatchers();
    await this.rootWatcher?.close();
    this.rootWatcher = undefined;
    this.rootFailed?.();
    await this.fullScanRunning?.catch(() => undefined);
  }

  /** Recounts one company after the debounce delay (coalescing bursts of events). */
  schedule(company: string): void {
    if (this.closed) return;
    const existing = this.pending.get(company);
    if (existing) clearTimeout(existing);
    this.pending.set(
      company,
      setTimeout(() => {
        this.pending.delete(company);
        this.scanOne(company);
      }, this.options.debounceMs),
    );
  }

  private async runFullScan(): Promise<void> {
    const started = performance.now();
    await this.runFullScanOnce();
    if (!this.closed) this.options.onFullScan?.(performance.now() - started);
  }

  private async runFullScanOnce(): Promise<void> {
    const { sessionsDir } = this.options;
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(sessionsDir, { withFileTypes: true });
    } catch (err) {
      this.reportOnce(`root:${(err as NodeJS.ErrnoException).code}`, {
        kind: "scan-failed",
        message: `Cannot read sessionsDir ${sessionsDir}: ${(err as Error).message}`,
      });
      return;
    }
    const present: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (isCompanyId(entry.name)) present.push(entry.name);
        // wa-warden's own staging/aside folders of a swap: never a company, nothing to report.
        else if (entry.name.startsWith(ATOMIC_TMP_PREFIX)) continue;
        else
          this.reportOnce(`invalid:${entry.name}`, {
            kind: "invalid-folder",
            message: `Folder ${JSON.stringify(entry.name)} in ${sessionsDir} is not a valid company id; ignored`,
          });
      } else if (entry.isSymbolicLink()) {
        this.reportOnce(`symlink:${entry.name}`, {
          kind: "irregular-entry",
          message: `${path.join(sessionsDir, entry.name)} is a symlink; not followed (a company must be a real folder)`,
        });
      }
    }
    const scanned: { snapshot: FolderSnapshot; seq: number }[] = [];
    const batch = this.options.batchSize ?? 25;
    for (let i = 0; i < present.length; i += batch) {
      for (const company of present.slice(i, i + batch)) {
        const result = this.scanCompany(company, true);
        if (typeof result === "object")
          scanned.push({ snapshot: result, seq: this.scanSeq.get(company) ?? 0 });
      }
      // Let events, timers and the bot run between batches.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.closed) return;
    }
    // A folder rescanned by an event meanwhile has a newer snapshot already applied: keep that.
    const snapshots = scanned
      .filter(({ snapshot, seq }) => this.scanSeq.get(snapshot.company) === seq)
      .map((s) => s.snapshot);
    if (this.closed) return;
    const presentSet = new Set(present);
    for (const company of [...this.known]) if (!presentSet.has(company)) this.forget(company);
    snapshots.sort((a, b) => a.company.localeCompare(b.company));
    for (const snapshot of snapshots) this.noteCompany(snapshot.company);
    if (snapshots.length > 0) this.options.onSnapshots(snapshots);
  }

  private scanOne(company: string): void {
    const snapshot = this.scanCompany(company);
    if (this.closed) return;
    if (typeof snapshot === "object") {
      this.noteCompany(company);
      this.options.onSnapshots([snapshot]);
    } else if (snapshot === "gone" && this.known.has(company)) {
      this.forget(company);
    }
  }

  /**
   * Scans one folder (synchronously). Each scan gets a sequence number so that a full scan does not
   * apply a snapshot older than one an event scan applied meanwhile. `listedAsDir`: the caller has
   * just seen it as a real directory in sessionsDir (no need to lstat it again).
   */
  private scanCompany(company: string, listedAsDir = false): FolderSnapshot | "gone" | "failed" {
    this.scanSeq.set(company, (this.scanSeq.get(company) ?? 0) + 1);
    const dir = path.join(this.options.sessionsDir, company);
    try {
      const st = listedAsDir ? undefined : lstatSync(dir);
      if (st && !st.isDirectory()) {
        if (st.isSymbolicLink()) {
          this.reportOnce(`symlink:${company}`, {
            kind: "irregular-entry",
            message: `${dir} is a symlink; not followed (a company must be a real folder)`,
          });
        }
        return "gone";
      }
      const known = listedAsDir ? undefined : this.mtimeCache.get(company);
      const snapshot = scanFolderSync(dir, company, this.options.clock.now(), this.credsCache, {
        preKeyFloor: this.options.preKeyFloor?.(company) ?? 0,
        knownMtimes: known,
      });
      if (!known) this.mtimeCache.set(company, snapshot.mtimes);
      for (const entry of snapshot.irregular) {
        this.reportOnce(`irregular:${company}/${entry.name}`, {
          kind: "irregular-entry",
          company,
          message: `${path.join(dir, entry.name)} is ${ENTRY_KIND_WORDS[entry.kind]}, not a regular file; not followed or read`,
        });
      }
      return snapshot;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        this.reportOnce(`scan:${company}:${code}`, {
          kind: "scan-failed",
          company,
          message: `Cannot scan ${dir}: ${(err as Error).message}`,
        });
        return "failed";
      }
      return "gone";
    }
  }

  private noteCompany(company: string): void {
    if (this.known.has(company)) return;
    this.known.add(company);
    if (this.currentMode === "events") {
      this.watchFolder(company);
      // Files written between the scan and the watch would otherwise wait for the reconcile.
      this.schedule(company);
    }
  }

  private forget(company: string): void {
    this.known.delete(company);
    this.mtimeCache.delete(company);
    this.credsCache.delete(path.join(this.options.sessionsDir, company, "creds.json"));
    this.folderWatchers.get(company)?.close();
    this.folderWatchers.delete(company);
    this.options.onRemoved(company);
  }

  private async startWatching(): Promise<void> {
    const { sessionsDir } = this.options;
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
    if (this.closed || this.rootWatcher !== root) return;
    this.currentMode = "events";
    for (const company of this.known) {
      this.watchFolder(company);
      if (this.currentMode !== "events") return;
    }
    // Anything created while the watchers were being set up.
    void this.fullScan();
  }

  private onRootEvent(entryPath: string): void {
    const name = path.relative(this.options.sessionsDir, entryPath);
    if (!name || name.includes(path.sep)) return;
    if (isCompanyId(name)) this.schedule(name);
    else void this.fullScan();
  }

  private watchFolder(company: string): void {
    if (this.folderWatchers.has(company) || this.closed) return;
    const dir = path.join(this.options.sessionsDir, company);
    try {
      const watcher = fsWatch(dir, { persistent: true }, () => this.schedule(company));
      watcher.on("error", (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EPERM") this.schedule(company);
        else this.onWatchError(err as NodeJS.ErrnoException);
      });
      this.folderWatchers.set(company, watcher);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      this.onWatchError(err as NodeJS.ErrnoException);
    }
  }

  private onWatchError(err: NodeJS.ErrnoException): void {
    if (this.currentMode === "scan-only" && this.reported.has("watcher-fallback")) return;
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
    this.reportOnce("watcher-fallback", {
      kind: "watcher-fallback",
      message: `File watching failed: ${err.code ?? err.message}${hint}. Falling back to a full scan every ${Math.round(this.options.reconcileEveryMs / 1000)}s`,
    });
  }

  private closeFolderWatchers(): void {
    for (const watcher of this.folderWatchers.values()) watcher.close();
    this.folderWatchers.clear();
  }

  private scheduleReconcile(): void {
    if (this.closed) return;
    this.reconcileTimer = setTimeout(() => {
      void this.fullScan().finally(() => this.scheduleReconcile());
    }, this.options.reconcileEveryMs);
  }

  private reportOnce(key: string, report: ScannerReport): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.logger.warn({ company: report.company, kind: report.kind }, report.message);
    this.options.onReport(report);
  }
}
