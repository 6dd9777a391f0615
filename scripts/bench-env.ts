/** Settings of the benchmarks, read from the environment. */

/** A whole number >= 1 from env var `name`, or `fallback` when unset; throws naming the variable otherwise. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number >= 1, got ${raw}`);
  return value;
}
