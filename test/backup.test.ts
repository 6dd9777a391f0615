import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { create as tarCreate, extract as tarExtract, list as tarList } from "tar";
import { describe, expect, it } from "vitest";
import {
  BackupInvalidError,
  createBackup,
  extractBackup,
  formatTimestamp,
  listBackups,
  MANIFEST_NAME,
  verifyBackup,
} from "../src/actions/backup/backup.js";
import { ErrorCodes, WardenError } from "../src/errors.js";
import { addFiles, createCompanyFolder, names } from "./helpers/baileys-folder.js";
import { digestSync } from "./helpers/folder-digest.js";
import { tempDir } from "./helpers/temp-dir.js";

const T0 = Date.UTC(2026, 10, 23, 10, 15, 0, 123);
const KEY = "correct horse battery staple";

/** A realistic company folder (Baileys creds, pre-keys, sessions, sender keys) and a backups root. */
async function setup(options: { preKeys?: number; sessions?: number; senderKeys?: number } = {}) {
  const root = tempDir();
  const dir = path.join(root, "sessions", "acme");
  mkdirSync(dir, { recursive: true });
  const folder = await createCompanyFolder(dir, { preKeys: 12, sessions: 2, senderKeys: 1, ...options });
  return { root, dir, folder, backupsRoot: path.join(root, "backups") };
}

/** A copy of `file` (same name suffix, in a fresh folder) with one byte inverted at `offset`. */
function flippedCopy(file: string, offset: number): string {
  const out = path.join(tempDir(), path.basename(file));
  const bytes = readFileSync(file);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(out, bytes);
  return out;
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

/** Expects extractBackup to refuse `file` and leave nothing behind (no dest, no staging folder). */
async function expectRestoresNothing(file: string, key?: string): Promise<BackupInvalidError> {
  const parent = tempDir();
  const dest = path.join(parent, "restored");
  const err = await extractBackup(file, dest, key === undefined ? {} : { key }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackupInvalidError);
  expect((err as Error).message).toContain(file);
  expect(existsSync(dest)).toBe(false);
  expect(readdirSync(parent)).toEqual([]);
  return err as BackupInvalidError;
}

describe("createBackup / verifyBackup / extractBackup", () => {
  it("round trips a Baileys folder byte for byte, with a manifest, 0600 files and 0700 folders", async () => {
    const { dir, folder, backupsRoot, root } = await setup();
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });

    expect(info.name).toBe("20261123T101500123Z-manual.tar.gz");
    expect(info.path).toBe(path.join(backupsRoot, "acme", info.name));
    expect(info).toMatchObject({ reason: "manual", encrypted: false, createdAt: "2026-11-23T10:15:00.123Z" });
    expect(info.size).toBe(statSync(info.path).size);
    expect(mode(info.path)).toBe(0o600);
    expect(mode(path.join(backupsRoot, "acme"))).toBe(0o700);
    expect(readdirSync(path.join(backupsRoot, "acme"))).toEqual([info.name]); // no temp file left

    const m = info.manifest;
    expect(m).toMatchObject({ version: 1, company: "acme", reason: "manual", createdAt: info.createdAt });
    expect(m.wardenVersion).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
    expect(m.files.map((f) => f.name)).toEqual(folder.files);
    expect(m.counts.total).toBe(folder.files.length);
    expect(m.counts.byCategory).toMatchObject({ creds: 1, "pre-key": 12, session: 2, "sender-key": 1 });
    const creds = m.files.find((f) => f.name === "creds.json");
    expect(creds?.size).toBe(readFileSync(path.join(dir, "creds.json")).length);

    // A plain .tar.gz any tar reads: the folder's files, then the manifest.
    const listed: string[] = [];
    await tarList({ file: info.path, onReadEntry: (e) => listed.push(e.path) });
    expect(listed).toEqual([...folder.files, MANIFEST_NAME]);

    const verified = await verifyBackup(info.path);
    expect(verified).toEqual({ ok: true, file: info.path, manifest: m, problems: [] });

    const dest = path.join(root, "restored", "acme");
    const restored = await extractBackup(info.path, dest);
    expect(restored).toEqual({ dir: dest, manifest: m, files: folder.files.length });
    expect(digestSync(dest)).toEqual(digestSync(dir));
    expect(existsSync(path.join(dest, MANIFEST_NAME))).toBe(false);
    expect(mode(dest)).toBe(0o700);
    for (const name of readdirSync(dest)) expect(mode(path.join(dest, name))).toBe(0o600);
    // mtimes come back too (the scanner reports the newest write).
    expect(statSync(path.join(dest, "creds.json")).mtime.getTime()).toBe(
      Math.floor(statSync(path.join(dir, "creds.json")).mtime.getTime() / 1000) * 1000,
    );
  });

  it("keeps the newest 5 of 7 backups, and never prunes the one just made", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 2, sessions: 0, senderKeys: 0 });
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const info = await createBackup({
        company: "acme",
        dir,
        backupsRoot,
        reason: "nightly",
        now: T0 + i * 60_000,
      });
      made.push(info.name);
      expect(info.pruned).toEqual(i >= 5 ? [path.join(backupsRoot, "acme", made[i - 5] as string)] : []);
      expect((await listBackups(backupsRoot, "acme")).length).toBe(Math.min(i + 1, 5));
    }
    const list = await listBackups(backupsRoot, "acme");
    expect(list.map((b) => b.name)).toEqual(made.slice(2).reverse()); // newest first
    expect(list[0]).toMatchObject({
      reason: "nightly",
      encrypted: false,
      createdAt: new Date(T0 + 6 * 60_000).toISOString(),
    });

    // The clock went back: the new backup is the oldest by name, yet it stays; the oldest other goes.
    const back = await createBackup({
      company: "acme",
      dir,
      backupsRoot,
      reason: "manual",
      now: T0 - 1,
      keep: 3,
    });
    const after = (await listBackups(backupsRoot, "acme")).map((b) => b.name);
    expect(after).toEqual([made[6], made[5], back.name]);
    expect(back.pruned).toHaveLength(3);
  });

  it("skips symlinks, sub-folders and in-flight temp files, and refuses to overwrite a backup", async () => {
    const { dir, folder, backupsRoot } = await setup({ preKeys: 3, sessions: 0, senderKeys: 0 });
    const outside = path.join(tempDir(), "secret.json");
    writeFileSync(outside, '{"secret":true}');
    symlinkSync(outside, path.join(dir, "session-link.json"));
    symlinkSync(path.join(dir, "missing-target"), path.join(dir, "pre-key-999.json"));
    mkdirSync(path.join(dir, "sub"));
    writeFileSync(path.join(dir, "sub", "pre-key-5000.json"), "{}");
    writeFileSync(path.join(dir, ".warden-tmp-123-abcdef"), "half written");

    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    expect(info.manifest.files.map((f) => f.name)).toEqual(folder.files);
    const listed: string[] = [];
    await tarList({ file: info.path, onReadEntry: (e) => listed.push(e.path) });
    expect(listed).toEqual([...folder.files, MANIFEST_NAME]);
    expect((await verifyBackup(info.path)).ok).toBe(true);

    await expect(
      createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 }),
    ).rejects.toThrow(/already exists/);
    expect(readdirSync(path.join(backupsRoot, "acme"))).toEqual([info.name]);
  });

  it("keeps names longer than ustar's 100 bytes (pax headers) readable by tar too", async () => {
    const root = tempDir();
    const dir = path.join(root, "acme");
    mkdirSync(dir);
    const long = `sender-key-${"1".repeat(60)}@g.us--${"5".repeat(40)}_1.0-12@s.whatsapp.net--0.json`;
    expect(long.length).toBeGreaterThan(100);
    addFiles(
      dir,
      [long, "creds.json"],
      '{"noiseKey":1,"signedIdentityKey":1,"signedPreKey":1,"registrationId":1}',
    );
    const info = await createBackup({
      company: "acme",
      dir,
      backupsRoot: path.join(root, "b"),
      reason: "x",
      now: T0,
    });
    const listed: string[] = [];
    await tarList({ file: info.path, onReadEntry: (e) => listed.push(e.path) });
    expect(listed).toEqual(["creds.json", long, MANIFEST_NAME]);
    expect((await verifyBackup(info.path)).ok).toBe(true);
    await extractBackup(info.path, path.join(root, "r"));
    expect(digestSync(path.join(root, "r"))).toEqual(digestSync(dir));
  });

  it("reports progress with increasing counts ending at the total", async () => {
    const root = tempDir();
    const dir = path.join(root, "acme");
    mkdirSync(dir);
    addFiles(
      dir,
      names(40, (i) => `pre-key-${i + 1}.json`),
    );
    const calls: [number, number][] = [];
    const info = await createBackup({
      company: "acme",
      dir,
      backupsRoot: path.join(root, "backups"),
      reason: "manual",
      now: T0,
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(calls.length).toBe(40);
    expect(calls.every(([, total]) => total === 40)).toBe(true);
    for (let i = 1; i < calls.length; i++) expect(calls[i]?.[0]).toBeGreaterThan(calls[i - 1]?.[0] as number);
    expect(calls.at(-1)).toEqual([40, 40]);
    expect(info.manifest.counts.total).toBe(40);

    // An empty folder still reports completion once.
    const empty = path.join(root, "empty");
    mkdirSync(empty);
    const emptyCalls: [number, number][] = [];
    await createBackup({
      company: "empty",
      dir: empty,
      backupsRoot: path.join(root, "backups"),
      reason: "manual",
      now: T0,
      onProgress: (done, total) => emptyCalls.push([done, total]),
    });
    expect(emptyCalls).toEqual([[0, 0]]);
  });

  it("rejects bad inputs before touching the disk", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 0, sessions: 0, senderKeys: 0 });
    const base = { company: "acme", dir, backupsRoot, reason: "manual", now: T0 };
    for (const bad of [
      { reason: "Manual" },
      { reason: "pre cleanup" },
      { reason: "../x" },
      { reason: "" },
      { keep: 0 },
      { keep: 1.5 },
      { key: "" },
      { now: Number.NaN },
    ]) {
      const err = await createBackup({ ...base, ...bad }).catch((e: unknown) => e);
      expect(err, JSON.stringify(bad)).toBeInstanceOf(WardenError);
      expect((err as WardenError).code).toBe(ErrorCodes.USAGE);
    }
    await expect(createBackup({ ...base, company: "../acme" })).rejects.toMatchObject({
      code: ErrorCodes.COMPANY_ID_INVALID,
    });
    await expect(listBackups(backupsRoot, "a/b")).rejects.toMatchObject({
      code: ErrorCodes.COMPANY_ID_INVALID,
    });
    expect(existsSync(backupsRoot)).toBe(false);
    expect(formatTimestamp(T0)).toBe("20261123T101500123Z");
  });

  it("refuses to extract into a folder that exists", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 1, sessions: 0, senderKeys: 0 });
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    const dest = tempDir(); // exists, empty
    await expect(extractBackup(info.path, dest)).rejects.toMatchObject({ code: ErrorCodes.USAGE });
    expect(readdirSync(dest)).toEqual([]);
  });

  it("lists backups newest first and ignores other files", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 1, sessions: 0, senderKeys: 0 });
    expect(await listBackups(backupsRoot, "acme")).toEqual([]);
    const a = await createBackup({ company: "acme", dir, backupsRoot, reason: "a", now: T0 });
    const b = await createBackup({ company: "acme", dir, backupsRoot, reason: "b", now: T0 + 1, key: KEY });
    const companyDir = path.join(backupsRoot, "acme");
    addFiles(companyDir, ["notes.txt", ".warden-tmp-1-abc", "20261399T101500123Z-bad-date.tar.gz"]);
    mkdirSync(path.join(companyDir, "20261123T101500999Z-dir.tar.gz"));
    const list = await listBackups(backupsRoot, "acme");
    expect(list).toEqual([
      { name: b.name, path: b.path, createdAt: b.createdAt, reason: "b", size: b.size, encrypted: true },
      { name: a.name, path: a.path, createdAt: a.createdAt, reason: "a", size: a.size, encrypted: false },
    ]);
  });
});

describe("encrypted backups", () => {
  it("round trips with the key; the file is not a readable gzip", async () => {
    const { dir, backupsRoot, root } = await setup();
    const info = await createBackup({
      company: "acme",
      dir,
      backupsRoot,
      reason: "manual",
      now: T0,
      key: KEY,
    });
    expect(info.name).toBe("20261123T101500123Z-manual.tar.gz.enc");
    expect(info.encrypted).toBe(true);
    const bytes = readFileSync(info.path);
    expect(bytes.subarray(0, 5).toString("ascii")).toBe("WWBK1");
    expect(bytes.includes(Buffer.from("creds.json"))).toBe(false);
    expect(mode(info.path)).toBe(0o600);

    const verified = await verifyBackup(info.path, { key: KEY });
    expect(verified.problems).toEqual([]);
    expect(verified.manifest).toEqual(info.manifest);

    const dest = path.join(root, "restored");
    await extractBackup(info.path, dest, { key: KEY });
    expect(digestSync(dest)).toEqual(digestSync(dir));
  });

  it("without a key, or with a wrong one, fails clearly and restores nothing", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 2, sessions: 0, senderKeys: 0 });
    const info = await createBackup({
      company: "acme",
      dir,
      backupsRoot,
      reason: "manual",
      now: T0,
      key: KEY,
    });

    const noKey = await verifyBackup(info.path);
    expect(noKey).toMatchObject({ ok: false, manifest: null });
    expect(noKey.problems).toEqual([`${info.path}: encrypted backup, a key is needed to read it`]);
    expect((await expectRestoresNothing(info.path)).message).toMatch(/a key is needed/);

    const wrong = await verifyBackup(info.path, { key: "not the key" });
    expect(wrong).toMatchObject({ ok: false, manifest: null });
    expect(wrong.problems).toEqual([
      `${info.path}: cannot be decrypted: wrong key (or the start of the file is damaged)`,
    ]);
    expect((await expectRestoresNothing(info.path, "not the key")).message).toMatch(/wrong key/);
  });

  it.each([
    ["magic", 0],
    ["salt", 5 + 7],
    ["iv", 21 + 3],
    ["first ciphertext byte", 33],
    ["ciphertext middle", "middle"],
    ["last ciphertext byte", -17],
    ["auth tag", -1],
  ] as const)("detects one flipped byte in the %s", async (_where, at) => {
    const { dir, backupsRoot } = await setup({ preKeys: 20, sessions: 1, senderKeys: 0 });
    const info = await createBackup({
      company: "acme",
      dir,
      backupsRoot,
      reason: "manual",
      now: T0,
      key: KEY,
    });
    const offset = at === "middle" ? 33 + Math.floor((info.size - 49) / 2) : at;
    const tampered = flippedCopy(info.path, offset);

    const result = await verifyBackup(tampered, { key: KEY });
    expect(result.ok).toBe(false);
    expect(result.manifest).toBeNull();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain(tampered);
    await expectRestoresNothing(tampered, KEY);
    // The original is untouched and still good.
    expect((await verifyBackup(info.path, { key: KEY })).ok).toBe(true);
  });

  it("detects a truncated encrypted file", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 2, sessions: 0, senderKeys: 0 });
    const info = await createBackup({
      company: "acme",
      dir,
      backupsRoot,
      reason: "manual",
      now: T0,
      key: KEY,
    });
    const cut = path.join(tempDir(), info.name);
    writeFileSync(cut, readFileSync(info.path).subarray(0, info.size - 100));
    const result = await verifyBackup(cut, { key: KEY });
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toContain(cut);
    await expectRestoresNothing(cut, KEY);
  });
});

describe("tampered unencrypted archives", () => {
  /** Unpacks a backup with tar, lets `edit` change the folder, repacks `entries` with tar. */
  async function repack(file: string, edit: (dir: string) => string[]): Promise<string> {
    const work = tempDir();
    await tarExtract({ file, cwd: work });
    const entries = edit(work);
    const out = path.join(tempDir(), path.basename(file));
    await tarCreate({ gzip: true, file: out, cwd: work, portable: true, preservePaths: true }, entries);
    return out;
  }

  it("names the file whose content changed", async () => {
    const { dir, folder, backupsRoot } = await setup();
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    const victim = "pre-key-5.json";
    const tampered = await repack(info.path, (work) => {
      const bytes = readFileSync(path.join(work, victim));
      bytes[10] = (bytes[10] as number) ^ 0x01; // same size, one bit
      writeFileSync(path.join(work, victim), bytes);
      return [...folder.files, MANIFEST_NAME];
    });
    const result = await verifyBackup(tampered);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([`${victim}: content does not match the manifest (sha256)`]);
    const err = await expectRestoresNothing(tampered);
    expect(err.problems).toEqual(result.problems);
  });

  it("names missing, extra, resized and unsafe entries", async () => {
    const { dir, folder, backupsRoot } = await setup({ preKeys: 4, sessions: 0, senderKeys: 0 });
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    const outside = tempDir();
    const tampered = await repack(info.path, (work) => {
      writeFileSync(path.join(work, "pre-key-2.json"), "{}");
      writeFileSync(path.join(work, "session-extra.json"), "{}");
      mkdirSync(path.join(work, "inner"));
      writeFileSync(path.join(work, "inner", "x.json"), "{}");
      writeFileSync(path.join(path.dirname(work), "escape.json"), "{}");
      return [
        ...folder.files.filter((n) => n !== "pre-key-3.json"),
        "session-extra.json",
        "inner/x.json",
        "../escape.json",
        MANIFEST_NAME,
      ];
    });
    const result = await verifyBackup(tampered);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^"inner\/x\.json": unsafe entry name/),
        expect.stringMatching(/^"\.\.\/escape\.json": unsafe entry name/),
        expect.stringMatching(/^pre-key-2\.json: 2 bytes in the archive, \d+ in the manifest$/),
        "pre-key-3.json: listed in the manifest but missing from the archive",
        "session-extra.json: in the archive but not in the manifest",
      ]),
    );
    await expectRestoresNothing(tampered);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("fails a backup without a manifest, or one that is not a gzip", async () => {
    const { dir, folder, backupsRoot } = await setup({ preKeys: 1, sessions: 0, senderKeys: 0 });
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    const noManifest = await repack(info.path, () => folder.files);
    expect((await verifyBackup(noManifest)).problems).toEqual([
      `${noManifest}: manifest.json is missing from the archive`,
    ]);

    const garbage = path.join(tempDir(), "20261123T101500123Z-manual.tar.gz");
    writeFileSync(garbage, "this is not a gzip file");
    const result = await verifyBackup(garbage);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatch(new RegExp(`^${garbage}: not a readable \\.tar\\.gz`));

    const flipped = flippedCopy(info.path, Math.floor(info.size / 2));
    expect((await verifyBackup(flipped)).ok).toBe(false);
    expect((await verifyBackup(path.join(tempDir(), "absent.tar.gz"))).problems[0]).toMatch(
      /cannot be opened/,
    );
  });
});

describe("creds.json checks", () => {
  it.each([
    ["does not parse", "{ this is not json", /^creds\.json: does not parse: /],
    [
      "lacks the keys",
      '{"registrationId": 7}',
      /^creds\.json: lacks noiseKey, signedIdentityKey, signedPreKey$/,
    ],
    ["holds null", "null", /^creds\.json: does not hold a creds object$/],
  ])("fails verification when creds.json %s", async (_what, content, problem) => {
    const { dir, backupsRoot } = await setup({ preKeys: 2, sessions: 0, senderKeys: 0 });
    writeFileSync(path.join(dir, "creds.json"), content);
    // The backup copies what is there (it may be the only copy); verification says it is unusable.
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    const result = await verifyBackup(info.path);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(problem);
    await expectRestoresNothing(info.path);
  });

  it("passes a folder without creds.json (nothing to check)", async () => {
    const { dir, backupsRoot } = await setup({ preKeys: 2, sessions: 0, senderKeys: 0 });
    rmSync(path.join(dir, "creds.json"));
    const info = await createBackup({ company: "acme", dir, backupsRoot, reason: "manual", now: T0 });
    expect((await verifyBackup(info.path)).ok).toBe(true);
  });
});

describe("restored folders", () => {
  it("can be backed up again with the same manifest content", async () => {
    const { dir, backupsRoot, root } = await setup({ preKeys: 3, sessions: 1, senderKeys: 1 });
    const first = await createBackup({
      company: "acme",
      dir,
      backupsRoot,
      reason: "manual",
      now: T0,
      key: KEY,
    });
    const dest = path.join(root, "restored");
    await extractBackup(first.path, dest, { key: KEY });
    const second = await createBackup({
      company: "acme",
      dir: dest,
      backupsRoot,
      reason: "again",
      now: T0 + 1,
    });
    expect(second.manifest.files).toEqual(first.manifest.files);
  });
});
