/** Settings of the benchmarks, read from the environment, and the node flags pm2 would give. */
import { createRequire } from "node:module";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "..");

/** A whole number >= 1 from env var `name`, or `fallback` when unset; throws naming the variable otherwise. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number >= 1, got ${raw}`);
  return value;
}

/** The node flags pm2 gives an app (`node_args` in ecosystem.config.cjs: an array or one string). */
export function ecosystemNodeArgs(app: string): string[] {
  const { apps } = createRequire(import.meta.url)(path.join(repoRoot, "ecosystem.config.cjs")) as {
    apps: { name: string; node_args?: string | string[] }[];
  };
  const found = apps.find((a) => a.name === app);
  if (!found) throw new Error(`ecosystem.config.cjs has no app ${app}`);
  const args = found.node_args ?? [];
  return typeof args === "string" ? args.split(/\s+/).filter(Boolean) : args;
}
