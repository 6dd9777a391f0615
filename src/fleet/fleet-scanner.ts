/**
 * Keeps every company's counts current: when to scan. File events (from `fleet-watcher.ts`) are
 * debounced per company into one-folder scans; a periodic full reconcile scan, which alone keeps
 * things right if events are lost, applies what is on disk (`reconcile-scan.ts` reads it): new
 * companies noted, vanished ones forgotten, a snapshot never replaced by an older one.
 */
import { lstatSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { PostgresListings } from "../auth-store/sqlite-scan.js";
import type { Clock } from "../clock.js";
import { authDir } from "../home-layout.js";
import type { Logger } from "../logger.js";
import type { MtimeLookup } from "./compact-mtimes.js";
import { FleetWatcher } from "./fleet-watcher.js";
import { listCompanyFolders, type ScanCompanyContext, scanCompanyFolder } from "./reconcile-scan.js";
import type { CredsCache, FolderSnapshot, FolderStats } from "./scan-folder.js";
import type { ScannerMode, ScannerReport } from "./scanner-types.js";

export type { ScannerMode, ScannerReport } from "./scanner-types.js";

/** What the scanner needs. */
export interface FleetScannerOptions {
  sessionsDir: string;
  debounceMs: number;
  reconcileEveryMs: number;
  logger: Logger;
  clock: Clock;
  /** Receives each batch of fresh snapshots (one company after an event, slices of a full scan). */
  onSnapshots(snapshots: FolderSnapshot[], fullScan?: boolean): void;
  /** A company folder disappeared. */
  onRemoved(company: string): void;
  /** Reports worth telling an operator, each given once per process. */
  onReport(report: ScannerReport): void;
  /** Told how long each full scan took (the supervisor's scan duration metric). */
  onFullScan?(durationMs: number): void;
  /** false: scans only (tests, the CLI). Default true. */
  watch?: boolean;
  /**
   * Most folders a full scan reads between two event-loop turns. Default 50. Each batch is handed
   * over (one `onSnapshots` call) in the turn that scanned it.
   */
  batchSize?: number;
  /**
   * A batch also ends once its folders hold this many files. Default 1,000: about 1 MB of garbage
   * (mostly `lstat`'s Stats objects), less than the supervisor's 2 MB young generation, so the
   * batch's snapshots (every file name and mtime it read) die young. Five v7 folders of 200 files
   * make a batch. Held across turns in slices of 50 folders, every snapshot of a first scan was
   * promoted: at 1,000 companies x 200 files the old generation grew from 15 to 36 MB of garbage,
   * and the RSS stayed ~20 MB higher until V8's memory reducer ran, 8 to 16 s later. Small folders
   * keep batches of 50: a batch and its store transaction cost the same few tenths of a ms however
   * small its folders are.
   */
  batchFiles?: number;
  /** Every age-ruled file is stat'ed again at most this often. Default STAT_SWEEP_EVERY_MS (10 min). */
  statSweepEveryMs?: number;
  /**
   * A company's pre-key floor (the resolved cleanup.keepPreKeys): only pre-keys below it are
   * stat'ed, since only their cleanup rule looks at age. Default: every pre-key.
   */
  preKeyFloor?: (company: string) => number;
  /**
   * False when a company's count cannot change by time alone before its next age boundary (the
   * supervisor's recount gate): a reconcile between two stat sweeps then skips the folder while its
   * and its creds.json's stat are unchanged (the names and mtimes would be the same). Default: true.
   */
  countDue?: (company: string) => boolean;
  /** WARDEN_HOME: companies whose warden-auth.json names a database are counted from its rows. */
  authHome?: string;
  /** The postgres companies' rows (WARDEN_PG_URL set): refreshed before each full scan (polling). */
  postgres?: PostgresListings & { refresh(): Promise<void>; close(): Promise<void> };
}

/**
 * How often a full scan stats every age-ruled file again. Between two sweeps a rewritten file keeps
 * the age its last sweep saw (age rules count days); a new name is stat'ed by the next reconcile.
 */
export const STAT_SWEEP_EVERY_MS = 600_000;

/** The fleet scanner; `start()` resolves after the first full scan. */
export class FleetScanner {
  private readonly options: FleetScannerOptions;
  private readonly known = new Set<string>();
  private readonly credsCache: CredsCache = new Map();
  /** Per company, the mtimes its last full scan stat'ed (event scans reuse them: no stat per file). */
  private readonly mtimeCache = new Map<string, MtimeLookup>();
  private readonly reported = new Set<string>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Per company, the folder's and creds.json's stat before its last full scan (files stores only). */
  private readonly folderKeys = new Map<string, FolderKey>();
  private readonly watcher: FleetWatcher;
  private readonly scanContext: ScanCompanyContext;
  private rescan: Promise<void> | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private fullScanRunning: Promise<void> | undefined;
  private closed = false;
  private lastStatSweepAt = Number.NEGATIVE_INFINITY;

  constructor(options: FleetScannerOptions) {
    this.options = options;
    this.watcher = new FleetWatcher({
      sessionsDir: options.sessionsDir,
      reconcileEveryMs: options.reconcileEveryMs,
      isClosed: () => this.closed,
      companies: () => this.known,
      schedule: (company) => this.schedule(company),
      fullScan: () => void this.fullScan(),
      hasReported: (key) => this.reported.has(key),
      reportOnce: (key, report) => this.reportOnce(key, report),
      ...(options.authHome !== undefined ? { authDir: authDir(options.authHome) } : {}),
    });
    this.scanContext = {
      sessionsDir: options.sessionsDir,
      clock: options.clock,
      credsCache: this.credsCache,
      mtimeCache: this.mtimeCache,
      preKeyFloor: options.preKeyFloor,
      authHome: options.authHome,
      postgres: options.postgres,
      reportOnce: (key, report) => this.reportOnce(key, report),
    };
  }

  /** Current event mode. */
  get mode(): ScannerMode {
    return this.watcher.mode;
  }

  /** Companies currently present. */
  get companies(): ReadonlySet<string> {
    return this.known;
  }

  /** Creates sessionsDir if needed (start() does it too): a folder that cannot be made fails here. */
  async prepare(): Promise<void> {
    // Company folders hold the WhatsApp accounts: nobody else may list them.
    await mkdir(this.options.sessionsDir, { recursive: true, mode: 0o700 });
  }

  /** Creates sessionsDir if needed, runs the first full scan, then starts watching and reconciling. */
  async start(): Promise<void> {
    await this.prepare();
    await this.fullScan();
    if (this.closed) return;
    if (this.options.watch !== false) await this.watcher.start();
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
    await this.watcher.close();
    await this.fullScanRunning?.catch(() => undefined);
    await this.options.postgres?.close();
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
    // Postgres rows change without a file event: each full scan counts them afresh (one query).
    await this.options.postgres?.refresh();
    const present = await listCompanyFolders(this.options.sessionsDir, (key, report) =>
      this.reportOnce(key, report),
    );
    if (!present) return;
    // Code-unit order (the order only groups the handovers): localeCompare took 9 ms at 10,000.
    present.sort();
    const presentSet = new Set(present);
    for (const company of [...this.known]) if (!presentSet.has(company)) this.forget(company);
    // Snapshots are handed over as the scan goes, a batch at a time in the turn that scanned it:
    // holding 10,000 of them (every file name of the fleet) until the end made the supervisor's heap
    // peak at hundreds of MB, and holding them across turns promotes them (see batchFiles).
    // Every age-ruled file is stat'ed at most every STAT_SWEEP_EVERY_MS: the reconcile in between
    // stats only new names (at 10,000 companies the sweep is ~800,000 lstat calls).
    const now = this.options.clock.now();
    const restat = now - this.lastStatSweepAt >= (this.options.statSweepEveryMs ?? STAT_SWEEP_EVERY_MS);
    if (restat) this.lastStatSweepAt = now;
    const maxFolders = this.options.batchSize ?? 50;
    const maxFiles = this.options.batchFiles ?? 1_000;
    let slice: FolderSnapshot[] = [];
    let folders = 0;
    let files = 0;
    for (let i = 0; i < present.length; i++) {
      const snapshot = this.fullScanFolder(present[i] as string, restat);
      if (snapshot) slice.push(snapshot);
      folders++;
      files += Math.max(1, snapshot?.total ?? 1);
      if (folders < maxFolders && files < maxFiles && i + 1 < present.length) continue;
      this.deliver(slice);
      slice = [];
      folders = 0;
      files = 0;
      // Let events, timers and the bot run between batches (a batch and its handover: ~5 ms).
      await new Promise((resolve) => setImmediate(resolve));
      if (this.closed) return;
    }
  }

  /**
   * One folder of a full scan: its snapshot, or undefined when it is skipped (unchanged since its
   * last full scan, count not due) or could not be scanned (reported by the scan).
   */
  private fullScanFolder(company: string, restat: boolean): FolderSnapshot | undefined {
    const stat = folderStat(path.join(this.options.sessionsDir, company));
    const key = stat?.key;
    if (!restat && key !== undefined && this.unchangedSinceScan(company, key)) return undefined;
    const result = scanCompanyFolder(this.scanContext, company, true, restat, stat?.stats);
    if (typeof result !== "object") return undefined;
    if (key !== undefined && (result.store ?? "files") === "files") this.folderKeys.set(company, key);
    return result;
  }

  /**
   * Hands one batch of a full scan over (one `onSnapshots` call, one store transaction; one call of
   * 10,000 held the loop and SQLite's write lock for half a second). Each company is in exactly one
   * batch, in company order. In the turn that scanned them: no event scan can have applied a newer
   * snapshot in between.
   */
  private deliver(snapshots: FolderSnapshot[]): void {
    if (this.closed) return;
    for (const snapshot of snapshots) this.noteCompany(snapshot.company);
    if (snapshots.length > 0) this.options.onSnapshots(snapshots, true);
  }

  /** True when a full scan may skip `company`: same stat as at its last full scan, count not due. */
  private unchangedSinceScan(company: string, key: FolderKey): boolean {
    const last = this.folderKeys.get(company);
    return last !== undefined && sameKey(last, key) && this.options.countDue?.(company) === false;
  }

  private scanOne(company: string): void {
    // An event scan: the next full scan lists the folder again.
    this.folderKeys.delete(company);
    const snapshot = scanCompanyFolder(this.scanContext, company, false);
    if (this.closed) return;
    if (typeof snapshot === "object") {
      this.noteCompany(company);
      this.options.onSnapshots([snapshot]);
    } else if (snapshot === "gone" && this.known.has(company)) {
      this.forget(company);
    }
  }

  private noteCompany(company: string): void {
    if (this.known.has(company)) return;
    this.known.add(company);
    if (this.watcher.mode === "events") {
      this.watcher.watchFolder(company);
      // Files written between the scan and the watch would otherwise wait for the reconcile.
      this.schedule(company);
    }
  }

  private forget(company: string): void {
    this.known.delete(company);
    this.mtimeCache.delete(company);
    this.folderKeys.delete(company);
    this.credsCache.delete(path.join(this.options.sessionsDir, company, "creds.json"));
    this.watcher.unwatchFolder(company);
    this.options.onRemoved(company);
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

/**
 * What a full scan compares to skip an unchanged folder: the folder's inode, mtime and ctime, then
 * creds.json's inode, mtime, ctime and size (-1 each when it has none). Numbers, not a string: a
 * reconcile builds one for every company (10,000 strings of seven numbers a minute).
 */
type FolderKey = Float64Array;

function sameKey(a: FolderKey, b: FolderKey): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

/**
 * The lstat of a folder and of its creds.json, and the key a full scan compares; undefined if the
 * folder is gone. The scan of the folder reuses the two stats.
 */
function folderStat(dir: string): { key: FolderKey; stats: FolderStats } | undefined {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return undefined;
  const creds = lstatSync(path.join(dir, "creds.json"), { throwIfNoEntry: false });
  const key = Float64Array.of(
    st.ino,
    st.mtimeMs,
    st.ctimeMs,
    creds?.ino ?? -1,
    creds?.mtimeMs ?? -1,
    creds?.ctimeMs ?? -1,
    creds?.size ?? -1,
  );
  return { key, stats: { dir: st, creds } };
}
