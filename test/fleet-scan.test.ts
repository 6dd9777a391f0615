import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { INITIAL_PREKEY_COUNT, proto } from "baileys";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  CATEGORIES,
  type Category,
  classifyFile,
  emptyCounts,
  preKeyId,
} from "../src/fleet/classify-file.js";
import { countedFiles, tallyFiles } from "../src/fleet/count-files.js";
import { FleetScanner, type ScannerReport } from "../src/fleet/fleet-scanner.js";
import { resolvePreKeyReserve } from "../src/fleet/prekey-reserve.js";
import { type CredsCache, type FolderSnapshot, scanFolder } from "../src/fleet/scan-folder.js";
import { addFiles, createCompanyFolder, names, writeKeys } from "./helpers/baileys-folder.js";
import { tempDir } from "./helpers/temp-dir.js";
import { waitFor } from "./helpers/wait-for.js";

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts with only the given categories non-zero. */
function counts(partial: Partial<Record<Category, number>>): Record<Category, number> {
  return { ...emptyCounts(), ...partial };
}

describe("classifyFile", () => {
  it.each([
    ["creds.json", "creds"],
    ["pre-key-1.json", "pre-key"],
    ["pre-key-812.json", "pre-key"],
    ["session-5511900000000.0.json", "session"],
    ["session-5511900000001.2.json", "session"],
    ["session-200000000000002_1.0.json", "session"],
    ["sender-key-120363025000000000@g.us--5511987654321--12.json", "sender-key"],
    ["sender-key-memory-120363025000000000@g.us.json", "sender-key-memory"],
    ["app-state-sync-key-AAAAAJ4V.json", "app-state-sync-key"],
    ["app-state-sync-key-AB__cd+ef=.json", "app-state-sync-key"],
    ["app-state-sync-version-regular_high.json", "app-state-sync-version"],
    ["app-state-sync-version-critical_unblock_low.json", "app-state-sync-version"],
    ["lid-mapping-5511987654321.json", "lid-mapping"],
    ["lid-mapping-200000000000002_reverse.json", "lid-mapping"],
    ["device-list-5511987654321.json", "device-list"],
    ["tctoken-5511900000000@s.whatsapp.net.json", "tctoken"],
    ["identity-key-5511900000000.0.json", "identity-key"],
    ["identity-key-200000000000002_1.0.json", "identity-key"],
  ] as const)("%s -> %s", (name, category) => {
    expect(classifyFile(name)).toBe(category);
  });

  it.each([
    "baileys_store.json",
    ".DS_Store",
    "creds.json.bak",
    "creds.json.tmp",
    "Creds.json",
    "pre-key-1.json.tmp",
    "pre-key-1",
    "session.json",
    "session-5511900000000.0",
    "notes.txt",
    "sender-keys-1.json",
    "app-state-sync-1.json",
    "",
  ])("%j -> other", (name) => {
    expect(classifyFile(name)).toBe("other");
  });

  it("sender-key-memory is not counted as sender-key, app-state-sync-version not as -key", () => {
    const tally = tallyFiles([
      "sender-key-memory-1@g.us.json",
      "sender-key-1@g.us--2--0.json",
      "app-state-sync-version-regular.json",
      "app-state-sync-key-AAAA.json",
      "app-state-sync-key-AAAB.json",
    ]);
    expect(tally.byCategory).toEqual(
      counts({
        "sender-key-memory": 1,
        "sender-key": 1,
        "app-state-sync-version": 1,
        "app-state-sync-key": 2,
      }),
    );
  });

  it("classifies every file name Baileys' keys.set writes (fixFileName: '/' -> '__', ':' -> '-')", async () => {
    const dir = tempDir();
    const bytes = Buffer.from([1, 2, 3]);
    // One key of every Baileys key type, with ids carrying "/" and ":" as real ids do.
    const byType: [Category, string[]][] = [];
    const record = async (category: Category, data: Parameters<typeof writeKeys>[1]) => {
      byType.push([category, await writeKeys(dir, data)]);
    };
    await record("pre-key", { "pre-key": { "7": { public: bytes, private: bytes } } });
    await record("session", { session: { "5511900000001.2": bytes, "200000000000002_1.0": bytes } });
    await record("sender-key", {
      "sender-key": { "120363025000000000@g.us::5511987654321::12": bytes },
    });
    await record("sender-key-memory", {
      "sender-key-memory": { "120363025000000000@g.us": { "5511900000001:2@s.whatsapp.net": true } },
    });
    await record("app-state-sync-key", {
      "app-state-sync-key": {
        "AB/cd+ef/A==": proto.Message.AppStateSyncKeyData.fromObject({ keyData: bytes, timestamp: 1 }),
      },
    });
    await record("app-state-sync-version", {
      "app-state-sync-version": {
        regular_high: { version: 3, hash: Buffer.alloc(128), indexValueMap: {} },
      },
    });
    await record("lid-mapping", {
      "lid-mapping": { "5511987654321": "200000000000009", "200000000000009_reverse": "5511987654321" },
    });
    await record("device-list", { "device-list": { "5511987654321": ["0", "12"] } });
    await record("tctoken", { tctoken: { "5511900000001:2@s.whatsapp.net": { token: bytes } } });
    await record("identity-key", { "identity-key": { "5511900000001.2": bytes } });

    const written = byType.flatMap(([, files]) => files);
    expect(written).toContain("sender-key-120363025000000000@g.us--5511987654321--12.json");
    expect(written).toContain("app-state-sync-key-AB__cd+ef__A==.json");
    expect(written).toContain("tctoken-5511900000001-2@s.whatsapp.net.json");
    expect(written).toHaveLength(12);
    for (const [category, files] of byType) {
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect({ file, category: classifyFile(file) }).toEqual({ file, category });
    }
    // Every category but creds and other is produced by some Baileys key type.
    expect(new Set(byType.map(([c]) => c))).toEqual(
      new Set(CATEGORIES.filter((c) => c !== "creds" && c !== "other")),
    );
  });
});

describe("preKeyId", () => {
  it.each([
    ["pre-key-1.json", 1],
    ["pre-key-812.json", 812],
    ["pre-key-0.json", 0],
    ["pre-key-007.json", 7],
    ["pre-key-4294967295.json", 4294967295],
  ] as const)("%s -> %d", (name, id) => {
    expect(preKeyId(name)).toBe(id);
  });

  it.each([
    "pre-key-.json",
    "pre-key-abc.json",
    "pre-key--1.json",
    "pre-key-1.5.json",
    "pre-key-12345678901.json",
    "pre-key-1.json.tmp",
    "pre-key-1",
    "session-1.json",
    "creds.json",
  ])("%s -> undefined", (name) => {
    expect(preKeyId(name)).toBeUndefined();
  });

  it("maxPreKeyId is the highest numeric id, not the last or the longest name", () => {
    expect(tallyFiles(["pre-key-900.json", "pre-key-1000.json", "pre-key-99.json"]).maxPreKeyId).toBe(1000);
    expect(tallyFiles(["pre-key-x.json", "session-1.0.json"]).maxPreKeyId).toBeNull();
  });
});

describe("countedFiles", () => {
  it("leaves out at most `reserve` pre-keys, never more than there are, never a negative reserve", () => {
    expect(countedFiles({ total: 906, preKeys: 900 }, 812)).toBe(94);
    expect(countedFiles({ total: 906, preKeys: 900 }, 0)).toBe(906);
    expect(countedFiles({ total: 50, preKeys: 10 }, 812)).toBe(40);
    expect(countedFiles({ total: 50, preKeys: 10 }, -5)).toBe(50);
  });

  it('"auto" is the installed Baileys\' INITIAL_PREKEY_COUNT', () => {
    expect(INITIAL_PREKEY_COUNT).toBe(812);
    expect(resolvePreKeyReserve("auto")).toBe(INITIAL_PREKEY_COUNT);
    expect(resolvePreKeyReserve(0)).toBe(0);
    expect(resolvePreKeyReserve(30)).toBe(30);
  });
});

describe("scanFolder", () => {
  it("counts a folder made by Baileys by category", { timeout: 60_000 }, async () => {
    const dir = path.join(tempDir(), "acme");
    // (Tests don't time things: the helper's cost is the benches' business, not an assertion that
    // fails on a loaded machine.)
    const made = await createCompanyFolder(dir, { preKeys: 900, sessions: 5, senderKeys: 3 });
    expect(made.preKeyIds).toEqual({ first: 1, last: 900 });
    expect(made.creds.nextPreKeyId).toBe(901);
    expect(made.creds.firstUnuploadedPreKeyId).toBe(901);

    const snapshot = await scanFolder(dir, "acme", 1_700_000_000_000);
    expect(snapshot.company).toBe("acme");
    expect(snapshot.scannedAt).toBe(1_700_000_000_000);
    expect(snapshot.byCategory).toEqual(counts({ creds: 1, "pre-key": 900, session: 5, "sender-key": 3 }));
    expect(snapshot.total).toBe(909);
    expect(snapshot.total).toBe(made.files.length);
    expect(snapshot.preKeys).toBe(900);
    expect(snapshot.maxPreKeyId).toBe(900);
    expect(snapshot.creds).toEqual({ state: "ok" });
    expect(snapshot.irregular).toEqual([]);
    expect(snapshot.newestWriteAt).toBeGreaterThan(Date.now() - 60_000);

    const reserve = resolvePreKeyReserve("auto");
    expect(reserve).toBe(INITIAL_PREKEY_COUNT);
    expect(countedFiles(snapshot, reserve)).toBe(909 - 812);
    expect(countedFiles(snapshot, 0)).toBe(909);

    // Baileys continues the pre-key ids when more are generated in the same folder.
    const more = await createCompanyFolder(dir, { preKeys: 10, sessions: 2, senderKeys: 1 });
    expect(more.preKeyIds).toEqual({ first: 901, last: 910 });
    const after = await scanFolder(dir, "acme", 1_700_000_000_001);
    expect(after.byCategory).toEqual(counts({ creds: 1, "pre-key": 910, session: 7, "sender-key": 4 }));
    expect(after.maxPreKeyId).toBe(910);
    expect(countedFiles(after, reserve)).toBe(922 - 812);
  });

  it("reports symlinks, directories and sockets as irregular and neither counts nor follows them", async () => {
    const root = tempDir();
    const dir = path.join(root, "acme");
    await createCompanyFolder(dir, { preKeys: 3, sessions: 1 });
    const outside = path.join(root, "outside");
    mkdirSync(outside);
    addFiles(
      outside,
      names(40, (i) => `pre-key-${1000 + i}.json`),
    );
    symlinkSync(path.join(outside, "pre-key-1000.json"), path.join(dir, "pre-key-1000.json"));
    symlinkSync(outside, path.join(dir, "session-linked.0.json"));
    symlinkSync(path.join(root, "nowhere.json"), path.join(dir, "dangling.json"));
    mkdirSync(path.join(dir, "backup"));
    addFiles(path.join(dir, "backup"), ["pre-key-5000.json"]);
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, "sock"), resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const snapshot = await scanFolder(dir, "acme", 0);
    expect(snapshot.byCategory).toEqual(counts({ creds: 1, "pre-key": 3, session: 1 }));
    expect(snapshot.total).toBe(5);
    expect(snapshot.maxPreKeyId).toBe(3);
    expect(snapshot.creds).toEqual({ state: "ok" });
    expect([...snapshot.irregular].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "backup", kind: "directory" },
      { name: "dangling.json", kind: "symlink" },
      { name: "pre-key-1000.json", kind: "symlink" },
      { name: "session-linked.0.json", kind: "symlink" },
      { name: "sock", kind: "socket" },
    ]);
  });

  it("treats a symlinked creds.json as corrupt, without reading the file it points to", async () => {
    const root = tempDir();
    const good = await createCompanyFolder(path.join(root, "good"), { preKeys: 1 });
    const dir = path.join(root, "acme");
    mkdirSync(dir);
    addFiles(dir, ["pre-key-1.json"]);
    symlinkSync(path.join(good.dir, "creds.json"), path.join(dir, "creds.json"));

    const snapshot = await scanFolder(dir, "acme", 0);
    expect(snapshot.creds.state).toBe("corrupt");
    expect(snapshot.creds.error).toContain("creds.json");
    expect(snapshot.creds.error).toContain("not a regular file");
    expect(snapshot.irregular).toEqual([{ name: "creds.json", kind: "symlink" }]);
    expect(snapshot.byCategory.creds).toBe(0);
    expect(snapshot.total).toBe(1);
  });

  it("creds.json that does not parse is corrupt, with an error naming creds.json", async () => {
    const dir = path.join(tempDir(), "acme");
    await createCompanyFolder(dir, { preKeys: 2 });
    writeFileSync(path.join(dir, "creds.json"), '{"noiseKey": {"private": ');
    const snapshot = await scanFolder(dir, "acme", 0);
    expect(snapshot.creds.state).toBe("corrupt");
    expect(snapshot.creds.error).toMatch(/^creds\.json does not parse: /);
    // Still counted: it is a file on disk.
    expect(snapshot.byCategory.creds).toBe(1);
    expect(snapshot.total).toBe(3);
  });

  it("creds.json missing is 'missing'; lacking required fields or not an object is 'corrupt'", async () => {
    const dir = path.join(tempDir(), "acme");
    await createCompanyFolder(dir, { preKeys: 2 });
    const made = JSON.parse(readFileSync(path.join(dir, "creds.json"), "utf8"));

    rmSync(path.join(dir, "creds.json"));
    expect((await scanFolder(dir, "acme", 0)).creds).toEqual({ state: "missing" });

    const { signedPreKey: _a, registrationId: _b, ...lacking } = made;
    writeFileSync(path.join(dir, "creds.json"), JSON.stringify(lacking));
    expect((await scanFolder(dir, "acme", 0)).creds).toEqual({
      state: "corrupt",
      error: "creds.json lacks signedPreKey, registrationId",
    });

    for (const text of ["null", "[]", '"creds"', "42"]) {
      writeFileSync(path.join(dir, "creds.json"), text);
      const { creds } = await scanFolder(dir, "acme", 0);
      expect({ text, state: creds.state }).toEqual({ text, state: "corrupt" });
      expect(creds.error).toContain("creds.json");
    }
  });

  it("re-reads creds.json when it changes, even with a shared cache", async () => {
    const dir = path.join(tempDir(), "acme");
    await createCompanyFolder(dir);
    const cache: CredsCache = new Map();
    expect((await scanFolder(dir, "acme", 0, cache)).creds.state).toBe("ok");
    expect(cache.size).toBe(1);
    writeFileSync(path.join(dir, "creds.json"), "{");
    expect((await scanFolder(dir, "acme", 0, cache)).creds.state).toBe("corrupt");
    await createCompanyFolder(path.join(dir, "..", "fresh"));
    renameSync(path.join(dir, "..", "fresh", "creds.json"), path.join(dir, "creds.json"));
    expect((await scanFolder(dir, "acme", 0, cache)).creds).toEqual({ state: "ok" });
  });

  it("a caller's stats taken before creds.json appeared do not make it 'missing', and are reused otherwise", async () => {
    const dir = path.join(tempDir(), "acme");
    mkdirSync(dir);
    const before = { dir: lstatSync(dir), creds: undefined };
    await createCompanyFolder(dir);
    expect((await scanFolder(dir, "acme", 0, new Map(), { stats: before })).creds).toEqual({ state: "ok" });
    // A creds stat given is the one used (not taken again): its mtime is what the cache key holds.
    const cache: CredsCache = new Map();
    const credsStat = Object.assign(lstatSync(path.join(dir, "creds.json")), { mtimeMs: 1_234 });
    await scanFolder(dir, "acme", 0, cache, { stats: { dir: lstatSync(dir), creds: credsStat } });
    expect([...cache.values()][0]?.key).toBe(`1234:${credsStat.size}`);
  });

  it("an empty folder", async () => {
    const dir = path.join(tempDir(), "empty");
    mkdirSync(dir);
    const snapshot = await scanFolder(dir, "empty", 0);
    expect(snapshot).toMatchObject({
      total: 0,
      preKeys: 0,
      maxPreKeyId: null,
      creds: { state: "missing" },
      irregular: [],
    });
    expect(snapshot.byCategory).toEqual(emptyCounts());
    expect(countedFiles(snapshot, 812)).toBe(0);
  });

  it("throws ENOENT for a folder that does not exist", async () => {
    await expect(scanFolder(path.join(tempDir(), "gone"), "gone", 0)).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("counts a folder of 20,000 files exactly", async () => {
    const dir = path.join(tempDir(), "big");
    mkdirSync(dir);
    for (let i = 1; i <= 10_000; i++) {
      writeFileSync(path.join(dir, `pre-key-${i}.json`), "{}");
      writeFileSync(path.join(dir, `session-${5511900000000 + i}.0.json`), "{}");
    }
    const snapshot = await scanFolder(dir, "big", 0);
    expect(snapshot.total).toBe(20_000);
    expect(snapshot.byCategory).toEqual(counts({ "pre-key": 10_000, session: 10_000 }));
    expect(snapshot.maxPreKeyId).toBe(10_000);
    expect(snapshot.creds.state).toBe("missing");
    expect(countedFiles(snapshot, resolvePreKeyReserve("auto"))).toBe(20_000 - 812);
    expect(countedFiles(snapshot, 0)).toBe(20_000);
  });
});

describe("FleetScanner (real file watching)", () => {
  /** A started scanner on a fresh sessions dir, recording everything it says. */
  async function startScanner(setup?: (sessionsDir: string) => Promise<void>) {
    const root = tempDir();
    const sessionsDir = path.join(root, "sessions");
    mkdirSync(sessionsDir);
    await setup?.(sessionsDir);
    const batches: FolderSnapshot[][] = [];
    const latest = new Map<string, FolderSnapshot>();
    const removed: string[] = [];
    const reports: ScannerReport[] = [];
    const scanner = new FleetScanner({
      sessionsDir,
      debounceMs: 30,
      // Long enough that only file events (never the periodic reconcile) can explain a change.
      reconcileEveryMs: 10 * 60_000,
      logger: pino({ level: "silent" }),
      clock: { now: () => Date.now() },
      onSnapshots(snapshots) {
        batches.push(snapshots);
        for (const snapshot of snapshots) latest.set(snapshot.company, snapshot);
      },
      onRemoved(company) {
        removed.push(company);
        latest.delete(company);
      },
      onReport(report) {
        reports.push(report);
      },
    });
    cleanups.push(() => scanner.close());
    await scanner.start();
    return { root, sessionsDir, scanner, batches, latest, removed, reports };
  }

  const ofKind = (reports: ScannerReport[], kind: ScannerReport["kind"]) =>
    reports.filter((r) => r.kind === kind);

  it("starts with a full scan and watches in events mode", async () => {
    const { scanner, batches, latest, reports } = await startScanner(async (sessionsDir) => {
      await createCompanyFolder(path.join(sessionsDir, "acme"), { preKeys: 20, sessions: 2 });
      await createCompanyFolder(path.join(sessionsDir, "beta"), { senderKeys: 1 });
    });
    expect(scanner.mode).toBe("events");
    expect([...scanner.companies].sort()).toEqual(["acme", "beta"]);
    expect(batches[0]?.map((s) => s.company)).toEqual(["acme", "beta"]);
    expect(latest.get("acme")?.total).toBe(23);
    expect(latest.get("beta")?.total).toBe(2);
    expect(reports).toEqual([]);
  });

  it("picks up a new company folder, then new files in it, then its removal", async () => {
    const { root, sessionsDir, scanner, latest, removed } = await startScanner();
    expect(scanner.companies.size).toBe(0);

    // Built aside and moved in, so the folder appears complete in one step.
    const staged = path.join(root, "staging", "acme");
    await createCompanyFolder(staged, { preKeys: 30, sessions: 3, senderKeys: 2 });
    renameSync(staged, path.join(sessionsDir, "acme"));
    const first = await waitFor(() => latest.get("acme"), { what: "a snapshot of the new company acme" });
    expect(first.total).toBe(36);
    expect(first.creds.state).toBe("ok");
    expect(scanner.companies.has("acme")).toBe(true);

    // Files Baileys adds to a watched company produce a fresh snapshot with the new count.
    await createCompanyFolder(path.join(sessionsDir, "acme"), { preKeys: 5, sessions: 1 });
    const grown = await waitFor(() => (latest.get("acme")?.total === 42 ? latest.get("acme") : undefined), {
      what: "acme recounted at 42 files after Baileys added 6",
    });
    expect(grown.byCategory).toEqual(counts({ creds: 1, "pre-key": 35, session: 4, "sender-key": 2 }));
    expect(grown.maxPreKeyId).toBe(35);

    // Raw files too (whatever category).
    addFiles(path.join(sessionsDir, "acme"), ["app-state-sync-key-AAAA.json", "lid-mapping-1.json"]);
    await waitFor(() => latest.get("acme")?.total === 44, { what: "acme recounted at 44 files" });

    rmSync(path.join(sessionsDir, "acme"), { recursive: true });
    await waitFor(() => removed.includes("acme"), { what: "onRemoved(acme)" });
    expect(scanner.companies.has("acme")).toBe(false);
    await scanner.fullScan();
    expect(removed).toEqual(["acme"]);
  });

  it("reports a symlink at the top level once, as an irregular entry", async () => {
    const { root, sessionsDir, scanner, reports, latest } = await startScanner();
    const elsewhere = path.join(root, "elsewhere");
    await createCompanyFolder(elsewhere, { preKeys: 2 });
    symlinkSync(elsewhere, path.join(sessionsDir, "acme link"));
    const report = await waitFor(() => ofKind(reports, "irregular-entry")[0], {
      what: "an irregular-entry report for the top-level symlink",
    });
    expect(report.message).toContain(path.join(sessionsDir, "acme link"));
    expect(report.message).toContain("symlink");
    await scanner.fullScan();
    await scanner.fullScan();
    expect(ofKind(reports, "irregular-entry")).toHaveLength(1);
    expect(ofKind(reports, "invalid-folder")).toHaveLength(0);
    expect(latest.size).toBe(0);
    expect(scanner.companies.size).toBe(0);
  });

  it("does not scan a top-level symlink with a valid company name as a company", async () => {
    const { root, sessionsDir, scanner, reports, batches, removed } = await startScanner();
    const elsewhere = path.join(root, "elsewhere");
    await createCompanyFolder(elsewhere, { preKeys: 2 });
    symlinkSync(elsewhere, path.join(sessionsDir, "linked"));
    const scannedAsCompany = () => batches.flat().some((s) => s.company === "linked");
    await waitFor(() => ofKind(reports, "irregular-entry").length > 0 || scannedAsCompany(), {
      what: "the scanner to react to the top-level symlink",
    });
    expect(scannedAsCompany()).toBe(false);
    expect(ofKind(reports, "irregular-entry")).toHaveLength(1);
    await scanner.fullScan();
    expect(scannedAsCompany()).toBe(false);
    expect(removed).toEqual([]);
  });

  it("reports an invalid folder name once", async () => {
    const { sessionsDir, scanner, reports, latest } = await startScanner();
    mkdirSync(path.join(sessionsDir, ".hidden"));
    mkdirSync(path.join(sessionsDir, "bad name"));
    await waitFor(() => ofKind(reports, "invalid-folder").length === 2, {
      what: "two invalid-folder reports",
    });
    await scanner.fullScan();
    const messages = ofKind(reports, "invalid-folder")
      .map((r) => r.message)
      .sort();
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain('".hidden"');
    expect(messages[1]).toContain('"bad name"');
    expect(latest.size).toBe(0);
    expect(scanner.companies.size).toBe(0);
  });

  it("reports irregular entries inside a company once, naming the company", async () => {
    const { sessionsDir, scanner, reports, latest } = await startScanner(async (dir) => {
      await createCompanyFolder(path.join(dir, "acme"), { preKeys: 2 });
      symlinkSync(path.join(dir, "acme", "pre-key-1.json"), path.join(dir, "acme", "pre-key-99.json"));
    });
    expect(latest.get("acme")?.total).toBe(3);
    await scanner.fullScan();
    addFiles(path.join(sessionsDir, "acme"), ["pre-key-3.json"]);
    await waitFor(() => latest.get("acme")?.total === 4, { what: "acme recounted at 4" });
    const irregular = ofKind(reports, "irregular-entry");
    expect(irregular).toHaveLength(1);
    expect(irregular[0]?.company).toBe("acme");
    expect(irregular[0]?.message).toContain("pre-key-99.json");
  });

  it("falls back to scans once when watching fails, and full scans still see changes", async () => {
    const { sessionsDir, scanner, reports, latest } = await startScanner(async (dir) => {
      await createCompanyFolder(path.join(dir, "acme"), { preKeys: 4 });
    });
    expect(scanner.mode).toBe("events");
    // start() does not wait for the catch-up scan it starts once watching; fullScan() would hand
    // back that in-flight scan, which may have listed the folder before the changes below.
    await scanner.fullScan();
    // biome-ignore lint/suspicious/noExplicitAny: reaching the real watchers to make them fail
    const internals = (scanner as any).watcher;
    const rootWatcher = internals.rootWatcher;
    const folderWatcher = internals.folderWatchers.get("acme");
    expect(rootWatcher).toBeDefined();
    expect(folderWatcher).toBeDefined();
    const enospc = () =>
      Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), {
        code: "ENOSPC",
      });
    rootWatcher.emit("error", enospc());
    // chokidar drops its listeners when closed, so the second failure comes from the company's
    // fs.watch (closed by the fallback, but its listener is still attached).
    folderWatcher.emit("error", enospc());

    const fallbacks = ofKind(reports, "watcher-fallback");
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]?.message).toContain("ENOSPC");
    expect(fallbacks[0]?.message).toContain("max_user_watches");
    expect(scanner.mode).toBe("scan-only");
    expect(internals.rootWatcher).toBeUndefined();
    expect(internals.folderWatchers.size).toBe(0);

    addFiles(path.join(sessionsDir, "acme"), ["pre-key-5.json", "session-1.0.json"]);
    mkdirSync(path.join(sessionsDir, "beta"));
    await scanner.fullScan();
    expect(latest.get("acme")?.total).toBe(7);
    expect(latest.get("acme")?.maxPreKeyId).toBe(5);
    expect(latest.get("beta")?.total).toBe(0);
    expect(scanner.mode).toBe("scan-only");
    expect(internals.folderWatchers.size).toBe(0);
    expect(ofKind(reports, "watcher-fallback")).toHaveLength(1);
  });

  it("start() still resolves when watching fails before the watcher is ready", async () => {
    const root = tempDir();
    const sessionsDir = path.join(root, "sessions");
    await createCompanyFolder(path.join(sessionsDir, "acme"), { preKeys: 1 });
    const reports: ScannerReport[] = [];
    const scanner: FleetScanner = new FleetScanner({
      sessionsDir,
      debounceMs: 30,
      reconcileEveryMs: 10 * 60_000,
      logger: pino({ level: "silent" }),
      clock: { now: () => Date.now() },
      onSnapshots() {
        // Runs inside the first full scan; the root watcher is created right after it, and this
        // fires before chokidar can have read the folder (fs callbacks come after setImmediate).
        setImmediate(() =>
          // biome-ignore lint/suspicious/noExplicitAny: reaching the real watcher to make it fail
          (scanner as any).watcher.rootWatcher?.emit(
            "error",
            Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), {
              code: "ENOSPC",
            }),
          ),
        );
      },
      onRemoved() {},
      onReport(report) {
        reports.push(report);
      },
    });
    cleanups.push(() => scanner.close());
    let started = false;
    void scanner.start().then(() => {
      started = true;
    });
    await waitFor(() => ofKind(reports, "watcher-fallback").length === 1, { what: "the fallback report" });
    expect(scanner.mode).toBe("scan-only");
    await waitFor(() => started, { timeoutMs: 3_000, what: "start() to resolve after the fallback" });
  });
});
