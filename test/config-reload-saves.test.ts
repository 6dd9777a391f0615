/**
 * Invariant 6 across editors: hot reload survives editor-style saves. Before, deleting and recreating
 * warden.json (or renaming a temp file over it) made the watcher deaf: later good and bad edits
 * were ignored without a word.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WardenConfig } from "../src/config/load.js";
import { type ConfigWatcher, watchConfig } from "../src/config/watch-config.js";
import { waitFor } from "./helpers/wait-for.js";

let root: string | undefined;
let watcher: ConfigWatcher | undefined;
afterEach(async () => {
  await watcher?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("config hot reload and editor saves", () => {
  it("keeps reloading after a delete + recreate and after a rename over warden.json", async () => {
    root = mkdtempSync(path.join(os.tmpdir(), "warden-reload-"));
    const sessionsDir = path.join(root, "sessions");
    mkdirSync(sessionsDir);
    mkdirSync(path.join(root, "config", "companies"), { recursive: true });
    const file = path.join(root, "config", "warden.json");
    const write = (target: string, keep: number) =>
      writeFileSync(target, JSON.stringify({ sessionsDir, backups: { keep } }));
    write(file, 3);
    const changes: WardenConfig[] = [];
    const errors: string[] = [];
    watcher = watchConfig({
      file,
      debounceMs: 50,
      onChange: (c) => changes.push(c),
      onError: (m) => errors.push(m),
    });
    await watcher.ready;
    const keepOf = (c: WardenConfig | undefined) => c?.defaults.backups.keep;

    // 1. Delete and recreate (some editors, `cp`): a good edit.
    unlinkSync(file);
    write(file, 4);
    await waitFor(() => keepOf(changes.at(-1)) === 4, { timeoutMs: 10_000, what: "reload after recreate" });

    // 2. A bad edit after that is still reported.
    writeFileSync(file, "{ not json");
    await waitFor(() => errors.length > 0, { timeoutMs: 10_000, what: "the bad edit reported" });
    expect(errors.at(-1)).toContain(file);

    // 3. Write a temp file and rename it over warden.json (vim, VS Code, atomic writers).
    const tmp = path.join(root, "config", ".warden.json.swp");
    write(tmp, 6);
    renameSync(tmp, file);
    await waitFor(() => keepOf(changes.at(-1)) === 6, { timeoutMs: 10_000, what: "reload after rename" });

    // 4. And once more, in place.
    write(file, 7);
    await waitFor(() => keepOf(changes.at(-1)) === 7, {
      timeoutMs: 10_000,
      what: "reload after an in-place edit",
    });
  }, 60_000);
});
