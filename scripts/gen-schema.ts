/** Writes config/warden.schema.json (warden.json) and config/company.schema.json from the zod schemas. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { renderSchemas } from "../src/config/json-schema.js";

const root = path.resolve(import.meta.dirname, "..");
for (const [name, text] of Object.entries(renderSchemas())) {
  writeFileSync(path.join(root, "config", name), text);
  console.log(`wrote config/${name}`);
}
