/**
 * A generated fleet for the fleet benchmark (`bench-fleet.ts`): N company folders of ~200
 * Baileys v7-shaped files each (creds.json from Baileys' own initAuthCreds, registered, so the
 * simulated driver connects without writing pre-keys; pre-keys, sessions, sender keys, app-state
 * keys, lid mappings, device lists in Baileys' proportions). 10,000 companies are 2 M files: the
 * tree is generated once into a cache folder under the temp dir and reused by later runs (a
 * `complete` marker is written last, so an interrupted generation starts over).
 *   tsx scripts/fleet-tree.ts <companies> [files]   prints the sessions folder
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { access } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { BufferJSON, initAuthCreds } from "baileys";

/** A fleet tree on disk. */
export interface FleetTree {
  /** The sessions folder (sessionsDir of the config). */
  sessionsDir: string;
  companies: number;
  filesPerCompany: number;
}

const phone = (i: number) => `55119${String(10_000_000 + i).padStart(8, "0")}`;

/** The i-th (i >= 1) file name of a folder, spread over the categories Baileys v7 writes. */
export function fleetFileName(i: number): string {
  const k = i % 20;
  if (k < 8) return `pre-key-${i}.json`;
  if (k < 14) return `session-${phone(i)}.0.json`;
  if (k < 17) return `sender-key-1203630${String(i).padStart(11, "0")}@g.us--${phone(i)}--0.json`;
  if (k < 18) return `app-state-sync-key-AAAAA${i.toString(36).toUpperCase()}.json`;
  if (k < 19) return `lid-mapping-${phone(i)}.json`;
  return `device-list-${phone(i)}.json`;
}

/** Name of the i-th company of a generated fleet. */
export const fleetCompany = (i: number) => `company-${String(i).padStart(5, "0")}`;

/** A registered creds.json (Baileys' initAuthCreds, past its first pre-key upload). */
export function fleetCreds(): string {
  const creds = initAuthCreds();
  creds.registered = true;
  creds.nextPreKeyId = 200;
  creds.firstUnuploadedPreKeyId = 200;
  creds.me = { id: "5511999990000:1@s.whatsapp.net", name: "bench" };
  return JSON.stringify(creds, BufferJSON.replacer);
}

/** Writes one company folder of `files` files (creds.json included). */
export function writeFleetCompany(dir: string, files: number, creds: string): void {
  mkdirSync(dir);
  writeFileSync(path.join(dir, "creds.json"), creds);
  for (let i = 1; i < files; i++) writeFileSync(path.join(dir, fleetFileName(i)), "{}");
}

/** The cached tree of `companies` x `files`, generated first when missing or incomplete. */
export async function ensureFleetTree(
  companies: number,
  files = 200,
  cacheRoot = path.join(os.tmpdir(), "warden-fleet-cache"),
  log: (line: string) => void = () => undefined,
): Promise<FleetTree> {
  const root = path.join(cacheRoot, `${companies}x${files}`);
  const sessionsDir = path.join(root, "sessions");
  const marker = path.join(root, "complete");
  const tree = { sessionsDir, companies, filesPerCompany: files };
  if (
    await access(marker).then(
      () => true,
      () => false,
    )
  )
    return tree;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(sessionsDir, { recursive: true });
  const t0 = performance.now();
  const creds = fleetCreds();
  for (let c = 0; c < companies; c++) {
    writeFleetCompany(path.join(sessionsDir, fleetCompany(c)), files, creds);
    if ((c + 1) % 1_000 === 0) log(`  generated ${c + 1}/${companies} companies`);
  }
  writeFileSync(marker, new Date().toISOString());
  log(
    `  generated ${companies} x ${files} files in ${Math.round((performance.now() - t0) / 1000)} s into ${root}`,
  );
  return tree;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const companies = Number(process.argv[2] ?? 1_000);
  const files = Number(process.argv[3] ?? 200);
  const tree = await ensureFleetTree(companies, files, undefined, (l) => process.stderr.write(`${l}\n`));
  process.stdout.write(`${tree.sessionsDir}\n`);
}
