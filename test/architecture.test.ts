/**
 * Keeps the map in docs/architecture.md true: every src file on the module map, the one-way import
 * order, and the environment read in one place. Each failure names the file and the import (or
 * line) at fault.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = path.join(ROOT, "src");

/**
 * The import order, lowest first (docs/architecture.md, "Import order"). A file may import files of
 * its own layer or of a lower one, never of a higher one.
 */
const LAYERS: readonly { name: string; matches: (file: string) => boolean }[] = [
  {
    name: "base (errors, clock, env, logger, home-layout, process-*, sealed-container, fs/)",
    matches: (f) => /^[^/]+\.ts$/.test(f) || f.startsWith("fs/"),
  },
  { name: "config", matches: (f) => f.startsWith("config/") },
  { name: "store", matches: (f) => f.startsWith("store/") },
  {
    name: "fleet / auth-store / alerts / actions / signals / liveness",
    matches: (f) =>
      f.startsWith("auth-store/") ||
      f.startsWith("fleet/") ||
      f.startsWith("alerts/") ||
      f.startsWith("actions/") ||
      f.startsWith("signals/") ||
      f.startsWith("liveness/"),
  },
  { name: "ladder / worker", matches: (f) => f.startsWith("ladder/") || f.startsWith("worker/") },
  // The Telegram bot and the HTTP side serve the operators on top of the actions; the supervisor wires them.
  { name: "bot / http", matches: (f) => f.startsWith("bot/") || f.startsWith("http/") },
  { name: "supervisor / cli", matches: (f) => f.startsWith("supervisor/") || f.startsWith("cli/") },
  { name: "entry files", matches: isEntry },
];

/** `src/<folder>/main.ts`: the one entry file of each process. */
function isEntry(file: string): boolean {
  return /^[^/]+\/main\.ts$/.test(file);
}

/** Files only entry files may import: they read the environment or handle process signals. */
const ENTRY_ONLY = new Set(["env.ts", "process-signals.ts"]);

/** The one src file allowed to read `process.env`. */
const ENV_READERS = new Set(["env.ts"]);

function layerOf(file: string): number {
  for (let i = LAYERS.length - 1; i >= 0; i--) if (LAYERS[i]?.matches(file)) return i;
  return -1;
}

/** Every .ts file under src/, relative to src/ with forward slashes. */
function srcFiles(): string[] {
  return (readdirSync(SRC, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.split(path.sep).join("/"))
    .sort();
}

/** Relative specifiers of static imports, re-exports and dynamic imports, with their line. */
function relativeImports(source: string): { spec: string; line: number }[] {
  const found: { spec: string; line: number }[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gm,
    /^\s*import\s+["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of source.matchAll(re)) {
      const spec = m[1] as string;
      if (!spec.startsWith(".")) continue;
      found.push({ spec, line: source.slice(0, m.index).split("\n").length });
    }
  }
  return found;
}

/** The src-relative file an import resolves to (`./x.js` is `./x.ts` on disk). */
function resolveImport(from: string, spec: string): string {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  return target.replace(/\.js$/, ".ts");
}

describe("the import order (docs/architecture.md)", () => {
  const files = srcFiles();

  it("places every src file in a layer", () => {
    const unplaced = files.filter((f) => layerOf(f) < 0);
    expect(unplaced, "src files outside every layer: add their folder to LAYERS and the docs").toEqual([]);
  });

  it("has no upward import: a file imports only from its own layer or lower ones", () => {
    const violations: string[] = [];
    for (const file of files) {
      const own = layerOf(file);
      const source = readFileSync(path.join(SRC, file), "utf8");
      for (const { spec, line } of relativeImports(source)) {
        const target = resolveImport(file, spec);
        const theirs = layerOf(target);
        if (theirs > own) {
          violations.push(
            `src/${file}:${line} imports "${spec}" (src/${target}, layer ${LAYERS[theirs]?.name}) from layer ${LAYERS[own]?.name}`,
          );
        } else if (ENTRY_ONLY.has(target) && !isEntry(file)) {
          violations.push(`src/${file}:${line} imports "${spec}": only entry files (src/*/main.ts) may`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("catches an upward import (the checker itself)", () => {
    const source =
      'import { x } from "../alerts/evaluate-thresholds.js";\nexport { y } from "../fleet/a.js";\n';
    const found = relativeImports(source).map(({ spec }) => layerOf(resolveImport("store/z.ts", spec)));
    expect(found.every((layer) => layer > layerOf("store/z.ts"))).toBe(true);
    expect(found).toHaveLength(2);
    expect(relativeImports('const m = await import("../cli/main.js");')).toHaveLength(1);
  });
});

describe("the environment", () => {
  it("is read only by src/env.ts (entry files call readEnv())", () => {
    const readers: string[] = [];
    for (const file of srcFiles()) {
      if (ENV_READERS.has(file)) continue;
      const lines = readFileSync(path.join(SRC, file), "utf8").split("\n");
      lines.forEach((text, i) => {
        if (text.includes("process.env")) readers.push(`src/${file}:${i + 1}: ${text.trim()}`);
      });
    }
    expect(readers).toEqual([]);
  });
});

/**
 * The files the module map names: under "## Modules", a heading ``### `src/<folder>/` (<layer>)``
 * starts a folder and each ``- `<file>.ts`: what it owns`` line names one of its files. Returns
 * src-relative paths and the problems found (a file line outside a folder, a line in no known shape).
 */
function moduleMap(markdown: string): { files: string[]; problems: string[] } {
  const lines = markdown.split("\n");
  const start = lines.indexOf("## Modules");
  const files: string[] = [];
  const problems: string[] = [];
  if (start < 0) return { files, problems: ['docs/architecture.md has no "## Modules" section'] };
  let folder: string | undefined;
  for (let i = start + 1; i < lines.length && !lines[i]?.startsWith("## "); i++) {
    const line = lines[i] as string;
    const heading = /^### `src\/((?:[a-z0-9-]+\/)*)`/.exec(line);
    if (heading) {
      folder = heading[1];
      continue;
    }
    if (!line.startsWith("- ")) continue;
    const entry = /^- `([a-z0-9.-]+\.ts)`: \S/.exec(line);
    if (!entry || folder === undefined) {
      problems.push(
        `docs/architecture.md:${i + 1}: expected "- \`<file>.ts\`: what it owns" under a src folder heading`,
      );
      continue;
    }
    files.push(`${folder}${entry[1]}`);
  }
  return { files, problems };
}

describe("the module map (docs/architecture.md)", () => {
  const map = moduleMap(readFileSync(path.join(ROOT, "docs", "architecture.md"), "utf8"));

  it("has one line per src file, and names no file that does not exist", () => {
    const files = srcFiles();
    const listed = new Set(map.files);
    const duplicates = map.files.filter((f, i) => map.files.indexOf(f) !== i);
    expect({
      problems: map.problems,
      unlisted: files.filter((f) => !listed.has(f)).map((f) => `src/${f}`),
      unknown: [...listed].filter((f) => !files.includes(f)).map((f) => `src/${f}`),
      duplicates,
    }).toEqual({ problems: [], unlisted: [], unknown: [], duplicates: [] });
  });

  it("reads folders and files (the parser itself)", () => {
    const sample = [
      "## Modules",
      "### `src/` (base)",
      "- `clock.ts`: the clock",
      "### `src/alerts/notifiers/` (fleet)",
      "- `log.ts`: the log notifier",
      "- log.ts without backticks",
      "## Next",
      "- `ignored.ts`: not in the map",
    ].join("\n");
    const parsed = moduleMap(sample);
    expect(parsed.files).toEqual(["clock.ts", "alerts/notifiers/log.ts"]);
    expect(parsed.problems).toHaveLength(1);
  });
});
