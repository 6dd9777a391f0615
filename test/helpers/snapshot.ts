/** Folder snapshots for tests that need companies in the store without folders on disk. */
import type { FolderSnapshot } from "../../src/fleet/scan-folder.js";

/** A company folder holding only a readable creds.json, scanned at `scannedAt`. */
export function credsOnlySnapshot(company: string, scannedAt: number): FolderSnapshot {
  return {
    company,
    scannedAt,
    total: 1,
    byCategory: {} as never,
    preKeys: 0,
    maxPreKeyId: null,
    creds: { state: "ok" },
    names: ["creds.json"],
    mtimes: new Map(),
    ownUsers: null,
    newestPreKeyId: null,
    newestWriteAt: null,
    irregular: [],
  };
}
