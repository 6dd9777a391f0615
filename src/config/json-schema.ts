/** JSON Schemas for editors, generated from the same zod schemas that validate the files. */
import { z } from "zod";
import { DURATION_PATTERN } from "./duration.js";
import { companyOverrideSchema, wardenFileSchema } from "./schema.js";

/** File name -> JSON text of each generated schema. */
export function renderSchemas(): Record<string, string> {
  const render = (schema: z.ZodType, title: string) =>
    `${JSON.stringify({ title, ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) }, null, 2)}\n`;
  return {
    "warden.schema.json": render(wardenFileSchema, "wa-warden config (warden.json)"),
    "company.schema.json": render(companyOverrideSchema, "wa-warden company override (companies/<id>.json)"),
  };
}

/**
 * Dotted paths (`cleanup.sessionMaxAge`, `history.keep`) of every duration key in warden.json, read
 * from the schema itself: a new duration key is printed as a duration without a list to update.
 */
export function durationPaths(): Set<string> {
  const paths = new Set<string>();
  const walk = (node: unknown, at: string[]): void => {
    if (!node || typeof node !== "object") return;
    const n = node as { pattern?: string; properties?: Record<string, unknown>; anyOf?: unknown[] };
    if (n.pattern === DURATION_PATTERN && at.length > 0) paths.add(at.join("."));
    for (const [key, child] of Object.entries(n.properties ?? {})) walk(child, [...at, key]);
    for (const option of n.anyOf ?? []) walk(option, at);
  };
  walk(z.toJSONSchema(wardenFileSchema, { io: "input", unrepresentable: "any" }), []);
  return paths;
}
