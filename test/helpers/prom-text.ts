/**
 * A strict reader of the Prometheus text exposition format (0.0.4), enough to prove /metrics
 * parses: every sample belongs to a family with # TYPE, label values are well quoted, values are
 * numbers. Throws naming the line at fault.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Families (name → type) and samples. */
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count", "_total", "_created"]) {
    if (name.endsWith(suffix) && types.has(name.slice(0, -suffix.length)))
      return name.slice(0, -suffix.length);
  }
  return undefined;
}

function parseLabels(text: string, lineNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`line ${lineNo}: label without "="`);
    const key = text.slice(i, eq).trim();
    if (!NAME.test(key)) throw new Error(`line ${lineNo}: bad label name ${JSON.stringify(key)}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${lineNo}: label value not quoted`);
    let j = eq + 2;
    let value = "";
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        value += next === "n" ? "\n" : (next ?? "");
      } else value += text[j];
    }
    if (text[j] !== '"') throw new Error(`line ${lineNo}: unterminated label value`);
    labels[key] = value;
    i = j + 1;
    if (text[i] === ",") i++;
  }
  return labels;
}

/** Parses the whole text; throws on the first malformed line. */
export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text.split("\n").forEach((line, index) => {
    const lineNo = index + 1;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      if (!NAME.test(m[2] as string)) throw new Error(`line ${lineNo}: bad metric name in ${m[1]}`);
      if (m[1] === "TYPE") {
        if (!TYPES.has(m[3] ?? "")) throw new Error(`line ${lineNo}: unknown type ${JSON.stringify(m[3])}`);
        types.set(m[2] as string, m[3] as string);
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`line ${lineNo}: not a sample: ${JSON.stringify(line)}`);
    const name = m[1] as string;
    if (familyOf(name, types) === undefined)
      throw new Error(`line ${lineNo}: sample ${name} has no # TYPE before it`);
    const raw = m[3] as string;
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
    const special = raw.toLowerCase();
    const value =
      special === "+inf" || special === "inf"
        ? Infinity
        : special === "-inf"
          ? -Infinity
          : special === "nan"
            ? NaN
            : Number(raw);
    if (Number.isNaN(value) && special !== "nan")
      throw new Error(`line ${lineNo}: value ${raw} is not a number`);
    samples.push({ name, labels: m[2] ? parseLabels(m[2], lineNo) : {}, value });
  });
  return { types, samples };
}

/** The value of the one sample matching name and labels (undefined when absent). */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return exposition.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}
