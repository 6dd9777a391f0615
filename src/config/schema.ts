/**
 * The one strict schema of wa-warden's configuration. `config/warden.json` holds global settings and
 * the per-company defaults; `config/companies/<id>.json` overrides any subset of the per-company keys.
 * Every default is in defaults.ts and only there; `config/*.schema.json` is generated from these
 * schemas (`npm run schema`). This file is the entry importers use; the sections live in
 * warden-schema.ts (the global file), company-schema.ts (per-company defaults and overrides),
 * company-shapes.ts (each section's keys) and schema-primitives.ts (durations, counts, chat ids,
 * `withDefaults`).
 */
export {
  type CompanyOverride,
  type CompanySettings,
  companyDefaultsSchema,
  companyOverrideSchema,
} from "./company-schema.js";
export { type WardenFile, wardenFileSchema } from "./warden-schema.js";
