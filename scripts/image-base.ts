/**
 * The local base image `npm run test:image` builds the Dockerfile on, where no registry is
 * reachable (so no node:20-bookworm-slim): a Debian bookworm rootfs made by mmdebstrap from this
 * machine's apt mirror, plus this machine's Node binary, npm and headers (better-sqlite3 compiles
 * against them), its CA bundle (npm reaches the registry through whatever TLS this machine trusts),
 * tini and the compiler the build stage needs. The tarball is cached, keyed by the package list,
 * the Node binary and this recipe; the image is kept in buildah's vfs store under the same key.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

/** Debian packages of the base: the run stage needs tini, the build stage python3/make/g++. */
export const BASE_PACKAGES = ["ca-certificates", "tini", "python3", "make", "g++"] as const;
const SUITE = "bookworm";
const FALLBACK_MIRROR = "http://deb.debian.org/debian";
/** Bumped when the recipe below changes in a way the key cannot see. */
const RECIPE_VERSION = 1;

/** buildah with the storage every call of the image test shares. */
export const BUILDAH = ["buildah", "--storage-driver", "vfs"] as const;

/** Runs buildah; its output (trimmed) or the error with its stderr. */
export function buildah(args: string[], options: { quiet?: boolean } = {}): string {
  return execFileSync(BUILDAH[0], [...BUILDAH.slice(1), ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", options.quiet ? "pipe" : "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

/** The Debian mirror apt uses here (deb822 .sources or sources.list), the public one otherwise. */
export function aptMirror(): string {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) files.push(path.join(dir, f));
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const uri = /^\s*(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/.exec(line)?.[1];
      if (uri && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, "");
    }
  }
  return FALLBACK_MIRROR;
}

/** Where the base tarballs are kept between runs: WARDEN_IMAGE_CACHE, /var/cache/wa-warden, ~/.cache. */
export function cacheDir(): string {
  const candidates = [
    process.env.WARDEN_IMAGE_CACHE,
    "/var/cache/wa-warden",
    path.join(os.homedir(), ".cache", "wa-warden"),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      // not writable here: the next one
    }
  }
  throw new Error(`no writable cache folder among ${candidates.filter(Boolean).join(", ")}`);
}

/** The shell commands run in the new rootfs ($1) once Debian's packages are in. */
function customizeHook(node: string): string {
  const prefix = path.resolve(path.dirname(node), "..");
  const npm = path.join(prefix, "lib", "node_modules", "npm");
  const headers = path.join(prefix, "include", "node");
  const ca = "/etc/ssl/certs/ca-certificates.crt";
  return [
    "set -e",
    `cp -a ${node} "$1/usr/bin/node"`,
    `mkdir -p "$1/usr/lib/node_modules" "$1/usr/include" "$1/usr/etc"`,
    `cp -a ${npm} "$1/usr/lib/node_modules/npm"`,
    `cp -a ${headers} "$1/usr/include/node"`,
    `ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"`,
    `ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/bin/npx"`,
    `cp ${ca} "$1${ca}"`,
    // npm's global config with node in /usr: headers from here (no download), this machine's CAs.
    `printf 'nodedir=/usr\\ncafile=${ca}\\n' > "$1/usr/etc/npmrc"`,
  ].join("\n");
}

/** What the base is made of: the tag and tarball name follow from it. */
export function baseKey(node = process.execPath): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ RECIPE_VERSION, SUITE, BASE_PACKAGES, hook: customizeHook(node) }));
  hash.update(execFileSync(node, ["--version"], { encoding: "utf8" }));
  hash.update(readFileSync(node));
  return hash.digest("hex").slice(0, 12);
}

/** How the base was obtained this run, for the timings line. */
export interface BaseImage {
  image: string;
  /** "image cached", "tarball cached" or "built". */
  source: string;
  mmdebstrapMs: number;
  importMs: number;
}

/**
 * The base image in buildah's store (built, or imported from the cached tarball, when missing).
 * mmdebstrap writes to a temp name first: a killed run never leaves a half tarball under the key.
 */
export function ensureBaseImage(log: (line: string) => void): BaseImage {
  const node = process.execPath;
  const key = baseKey(node);
  const image = `localhost/wa-warden-base:${key}`;
  const present = buildah(["images", "--format", "{{.Name}}:{{.Tag}}"], { quiet: true }).split("\n");
  if (present.includes(image)) return { image, source: "image cached", mmdebstrapMs: 0, importMs: 0 };

  const tarball = path.join(cacheDir(), `base-${key}.tar`);
  let mmdebstrapMs = 0;
  let source = "tarball cached";
  if (!existsSync(tarball)) {
    const mirror = aptMirror();
    log(
      `base: mmdebstrap ${SUITE} from ${mirror} + ${BASE_PACKAGES.join(", ")} + node ${process.version} -> ${tarball}`,
    );
    const partial = `${tarball}.partial-${process.pid}.tar`;
    const started = Date.now();
    try {
      execFileSync(
        "mmdebstrap",
        [
          "--variant=minbase",
          `--include=${BASE_PACKAGES.join(",")}`,
          `--customize-hook=${customizeHook(node)}`,
          SUITE,
          partial,
          mirror,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
    } catch (err) {
      rmSync(partial, { force: true });
      throw err;
    }
    renameSync(partial, tarball);
    mmdebstrapMs = Date.now() - started;
    source = "built";
  }
  log(`base: importing ${tarball} as ${image}`);
  const started = Date.now();
  const container = buildah(["from", "scratch"], { quiet: true });
  try {
    buildah(["add", "--quiet", container, tarball, "/"], { quiet: true });
    buildah([
      "config",
      "--env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      container,
    ]);
    buildah(["commit", "--quiet", "--rm", container, image], { quiet: true });
  } catch (err) {
    buildah(["rm", container], { quiet: true });
    throw err;
  }
  return { image, source, mmdebstrapMs, importMs: Date.now() - started };
}
