/** JSON Schemas for editors, generated from the same zod schemas that validate the files. */
import { z } from "zod";
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
