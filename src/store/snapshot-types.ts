/**
 * The shapes of a folder scan that the store persists (companies, count_history). They live here,
 * below fleet/ in the import order, so the store never imports from above it; `fleet/classify-file.ts`
 * and `fleet/scan-folder.ts` re-export them for their callers.
 */

/** Every category, in display order. */
export const CATEGORIES = [
  "creds",
  "pre-key",
  "session",
  "sender-key",
  "sender-key-memory",
  "app-state-sync-key",
  "app-state-sync-version",
  "lid-mapping",
  "device-list",
  "tctoken",
  "identity-key",
  "other",
] as const;

/** A file category. */
export type Category = (typeof CATEGORIES)[number];

/** Counts per category. */
export type CategoryCounts = Record<Category, number>;

/** State of a folder's creds.json. */
export type CredsState = "ok" | "missing" | "corrupt";

/** An entry that is not a regular file: reported, never followed. */
export interface IrregularEntry {
  name: string;
  kind: "symlink" | "directory" | "fifo" | "socket" | "device" | "other";
}

/** What one scan of a company folder found. */
export interface FolderSnapshot {
  company: string;
  scannedAt: number;
  total: number;
  byCategory: CategoryCounts;
  preKeys: number;
  maxPreKeyId: number | null;
  creds: { state: CredsState; error?: string };
  /** Every regular file name (atomic temp files left out). */
  names: string[];
  /** Each name's category, in the order of `names`, when the scan classified them (read, not re-classified). */
  categories?: Category[];
  /** mtimes of the age-ruled files and of the pre-keys below `preKeyFloor` (others: not stat'ed). */
  mtimes: Map<string, number>;
  /** User parts of creds.me.id / creds.me.lid (null: unknown). */
  ownUsers: string[] | null;
  /** creds.nextPreKeyId - 1 (null: unknown). */
  newestPreKeyId: number | null;
  /** Newest of the folder's and creds.json's modification times (file events can move it later). */
  newestWriteAt: number | null;
  irregular: IrregularEntry[];
  /** Where the keys live: the folder ("files", the default) or a database store. */
  store?: "files" | "sqlite" | "postgres";
}

/** What the thresholds apply to: stale files (default), counted (all but the pre-key reserve), or total. */
export type CountBasis = "stale" | "counted" | "total";

/** What a scan learns from creds.json (the fleet's scan and the database stores' listing share it). */
export interface CredsFacts {
  state: CredsState;
  error?: string;
  ownUsers: string[] | null;
  newestPreKeyId: number | null;
}
