/**
 * Defaults in one place (`src/config/defaults.ts`): the schemas apply exactly those, the shipped
 * config/warden.json sets nothing else, and the README's options table shows them. A default
 * changed in one place and not the other fails here, naming the key.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMPANY_DEFAULTS, GLOBAL_DEFAULTS } from "../src/config/defaults.js";
import { wardenFileSchema } from "../src/config/schema.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/** The whole default warden.json as an operator would write it. */
function writtenDefaults(): Record<string, unknown> {
  return {
    ...GLOBAL_DEFAULTS,
    ...COMPANY_DEFAULTS,
    telegram: { chatIds: COMPANY_DEFAULTS.telegram.chatIds, ...GLOBAL_DEFAULTS.telegram },
    alerts: { ...COMPANY_DEFAULTS.alerts, ...GLOBAL_DEFAULTS.alerts },
  };
}

/** Dotted path -> value of every leaf (arrays and null are leaves, objects are walked). */
function leaves(value: unknown, at: string[] = [], out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) leaves(child, [...at, key], out);
  } else {
    out.set(at.join("."), value);
  }
  return out;
}

/** The value at a dotted path of `root`, or undefined. */
function at(root: unknown, dotted: string): unknown {
  let node = root;
  for (const key of dotted.split(".")) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** One row of the README's options table: the keys it documents, its scope, the default of each key. */
interface OptionRow {
  keys: string[];
  scope: string;
  defaults: unknown[];
  line: number;
}

/** The rows of the options table under "## Configuration" (the table whose header is `| key | scope | default | meaning |`). */
function readmeOptionRows(): OptionRow[] {
  const lines = readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n");
  const header = lines.findIndex((l) => /^\|\s*key\s*\|\s*scope\s*\|\s*default\s*\|\s*meaning\s*\|/.test(l));
  expect(header, "README.md has no `| key | scope | default | meaning |` table").toBeGreaterThan(0);
  const rows: OptionRow[] = [];
  for (let i = header + 2; i < lines.length && lines[i]?.startsWith("|"); i++) {
    const cells = (lines[i] as string).split(/(?<!\\)\|/).map((c) => c.trim());
    const [, keyCell = "", scope = "", defaultCell = ""] = cells;
    const code = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    rows.push({
      keys: code(keyCell),
      scope,
      defaults: code(defaultCell).map((text) => JSON.parse(text) as unknown),
      line: i + 1,
    });
  }
  return rows;
}

describe("defaults in one place (src/config/defaults.ts)", () => {
  it("writing every default out gives the config that leaving them out gives", () => {
    // Strict: a key in defaults.ts that the schema does not know fails here too.
    expect(wardenFileSchema.parse(writtenDefaults())).toEqual(wardenFileSchema.parse({}));
  });

  it("the shipped config/warden.json sets only default values", () => {
    const shipped = JSON.parse(readFileSync(path.join(ROOT, "config", "warden.json"), "utf8")) as object;
    const written = writtenDefaults();
    const differing = [...leaves(shipped)]
      .filter(([key]) => key !== "$schema")
      .filter(([key, value]) => JSON.stringify(at(written, key)) !== JSON.stringify(value))
      .map(
        ([key, value]) =>
          `${key}: shipped ${JSON.stringify(value)}, default ${JSON.stringify(at(written, key))}`,
      );
    expect(differing).toEqual([]);
  });

  it("the README's options table shows every option with its default and scope", () => {
    const written = writtenDefaults();
    const rows = readmeOptionRows();
    const wrong: string[] = [];
    for (const row of rows) {
      if (row.keys.length !== row.defaults.length)
        wrong.push(`README.md:${row.line}: ${row.keys.length} keys but ${row.defaults.length} defaults`);
      row.keys.forEach((key, i) => {
        // telegram.operators is set in company files only: not part of warden.json.
        const expected = at(written, key) === undefined ? at(COMPANY_DEFAULTS, key) : at(written, key);
        if (expected === undefined) wrong.push(`README.md:${row.line}: \`${key}\` is not an option`);
        else if (JSON.stringify(row.defaults[i]) !== JSON.stringify(expected))
          wrong.push(
            `README.md:${row.line}: \`${key}\` default ${JSON.stringify(row.defaults[i])}, defaults.ts has ${JSON.stringify(expected)}`,
          );
        const scope = at(COMPANY_DEFAULTS, key) === undefined ? "global" : "company";
        if (row.scope !== scope)
          wrong.push(`README.md:${row.line}: \`${key}\` is ${scope}, not ${row.scope}`);
      });
    }
    const documented = rows.flatMap((r) => r.keys);
    const missing = [...leaves(written).keys()].filter(
      (key) => !documented.some((d) => key === d || key.startsWith(`${d}.`)),
    );
    expect({ wrong, missing }).toEqual({ wrong: [], missing: [] });
  });
});
