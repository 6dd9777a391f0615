/**
 * The `manifest.json` of a backup: its shape, its schema, and the check of an archive's entries
 * against it (every file listed once, same size, same sha256, creds.json usable).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { CategoryCounts } from "../../fleet/classify-file.js";
import { REQUIRED_CREDS_FIELDS } from "../../fleet/scan-folder.js";

/** Name of the manifest entry inside every archive. */
export const MANIFEST_NAME = "manifest.json";

/** One archived file as the manifest records it. */
export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
}

/** The `manifest.json` inside every backup. */
export interface BackupManifest {
  version: 1;
  company: string;
  reason: string;
  /** ISO 8601, the `now` the backup was made with. */
  createdAt: string;
  files: ManifestFile[];
  counts: { total: number; byCategory: CategoryCounts };
  wardenVersion: string;
}

const ManifestSchema = z.object({
  version: z.literal(1),
  company: z.string(),
  reason: z.string(),
  createdAt: z.string(),
  files: z.array(
    z.object({
      name: z.string(),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  counts: z.object({
    total: z.number().int().nonnegative(),
    byCategory: z.record(z.string(), z.number().int().nonnegative()),
  }),
  wardenVersion: z.string(),
});

/** Hash and size of one archive entry; size -1 while its body is being read. */
export interface EntryDigest {
  size: number;
  sha256: string;
}

/** What a tar parse collected for the manifest check. */
export interface ParsedEntries {
  entries: Map<string, EntryDigest>;
  manifestBytes: Buffer | null;
  credsBytes: Buffer | null;
}

/** Compares the archive's entries with its manifest; returns the manifest when it is valid. */
export function checkManifest(
  file: string,
  parsed: ParsedEntries,
  problems: string[],
): BackupManifest | null {
  if (!parsed.manifestBytes) {
    problems.push(`${file}: ${MANIFEST_NAME} is missing from the archive`);
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(parsed.manifestBytes.toString("utf8"));
  } catch (err) {
    problems.push(`${MANIFEST_NAME}: does not parse: ${(err as Error).message}`);
    return null;
  }
  const result = ManifestSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    problems.push(`${MANIFEST_NAME}: invalid: ${issues.join("; ")}`);
    return null;
  }
  const manifest = result.data as BackupManifest;

  const listed = new Set<string>();
  for (const f of manifest.files) {
    if (listed.has(f.name)) {
      problems.push(`${f.name}: listed twice in the manifest`);
      continue;
    }
    listed.add(f.name);
    const got = parsed.entries.get(f.name);
    if (!got) problems.push(`${f.name}: listed in the manifest but missing from the archive`);
    else if (got.size !== f.size)
      problems.push(`${f.name}: ${got.size} bytes in the archive, ${f.size} in the manifest`);
    else if (got.sha256 !== f.sha256)
      problems.push(`${f.name}: content does not match the manifest (sha256)`);
  }
  for (const name of parsed.entries.keys()) {
    if (name !== MANIFEST_NAME && !listed.has(name))
      problems.push(`${name}: in the archive but not in the manifest`);
  }
  if (manifest.counts.total !== manifest.files.length) {
    problems.push(
      `${MANIFEST_NAME}: counts.total ${manifest.counts.total} but ${manifest.files.length} files listed`,
    );
  }
  if (listed.has("creds.json") && parsed.credsBytes) {
    const credsProblem = checkCreds(parsed.credsBytes);
    if (credsProblem) problems.push(`creds.json: ${credsProblem}`);
  }
  return manifest;
}

/** Why a creds.json cannot be used to log in, or null when it has what Baileys needs. */
function checkCreds(bytes: Buffer): string | null {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    return `does not parse: ${(err as Error).message}`;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) return "does not hold a creds object";
  const missing = REQUIRED_CREDS_FIELDS.filter((field) => !(field in data));
  return missing.length > 0 ? `lacks ${missing.join(", ")}` : null;
}

/** True when two manifests list the same files with the same sizes and hashes, in order. */
export function sameFiles(a: readonly ManifestFile[], b: readonly ManifestFile[]): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => f.name === b[i]?.name && f.size === b[i]?.size && f.sha256 === b[i]?.sha256)
  );
}

let cachedVersion: string | undefined;

/** wa-warden's version from package.json (three levels up from src/actions/backup and dist/actions/backup). */
export function wardenVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      cachedVersion = pkg.name === "wa-warden" && typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      cachedVersion = "unknown";
    }
  }
  return cachedVersion;
}
