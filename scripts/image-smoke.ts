/**
 * Running the image's processes without a container engine: `buildah run --isolation chroot` in a
 * working container of the image, with host folders as its volumes. There is no PID namespace, so
 * "the container's main process" is the image's entrypoint process (tini) found among the
 * descendants of `buildah run`; SIGTERM goes to it as `docker stop` sends it to PID 1 (buildah run
 * itself does not forward signals: it kills its child). When it has exited, whatever is left of
 * the container gets SIGKILL, as the kernel does when a PID namespace's init exits.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BUILDAH } from "./image-base.js";

/** Container path → host folder (with ":ro" at the end for a read-only mount). */
export type Mounts = Record<string, string>;

/** What a finished command printed and how it ended. */
export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The image's USER: buildah run (chroot) does not apply it by itself (it runs as root, which
 * passes every permission check), so every run names it.
 */
export const IMAGE_USER = "1000:1000";

function runArgs(
  container: string,
  command: string[],
  mounts: Mounts,
  env: Record<string, string>,
): string[] {
  const args = [...BUILDAH.slice(1), "run", "--isolation", "chroot", "--user", IMAGE_USER];
  for (const [target, host] of Object.entries(mounts)) {
    const readOnly = host.endsWith(":ro");
    args.push("-v", `${readOnly ? host.slice(0, -3) : host}:${target}${readOnly ? ":ro" : ""}`);
  }
  for (const [key, value] of Object.entries(env)) args.push("--env", `${key}=${value}`);
  return [...args, container, "--", ...command];
}

/** Runs a command in the container to its end (like `docker compose exec`/`run`). */
export function runIn(
  container: string,
  command: string[],
  mounts: Mounts = {},
  env: Record<string, string> = {},
): Ran {
  const args = runArgs(container, command, mounts, env);
  const r = spawnSync(BUILDAH[0], args, { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** A long-running command in the container (its output to `logFile`). */
export function startIn(
  container: string,
  command: string[],
  mounts: Mounts,
  env: Record<string, string>,
  logFile: string,
): ChildProcess {
  const child = spawn(BUILDAH[0], runArgs(container, command, mounts, env), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** pid → [parent pid, command name] of every process, from /proc. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      table.set(Number(name), [ppid, comm]);
    } catch {
      // exited while listing
    }
  }
  return table;
}

/** Every descendant of `pid` (children first), with its command name. */
export function descendants(pid: number): { pid: number; comm: string }[] {
  const table = processTable();
  const out: { pid: number; comm: string }[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [child, [ppid, comm]] of table) {
      if (ppid !== parent) continue;
      out.push({ pid: child, comm });
      queue.push(child);
    }
  }
  return out;
}

/** Polls `check` until it returns a value or the deadline passes (undefined then). */
export async function poll<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

/** The entrypoint process (by command name) the `buildah run` child started. */
export async function mainProcess(child: ChildProcess, comm: string): Promise<number> {
  const pid = await poll(
    () => descendants(child.pid as number).find((p) => p.comm === comm)?.pid,
    30_000,
    50,
  );
  if (pid === undefined) throw new Error(`no ${comm} process under buildah run (pid ${child.pid})`);
  return pid;
}

/** Resolves with the exit status once `child` has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** SIGKILL to every process left under `child` and to `child` itself: the container is gone. */
export async function killContainer(child: ChildProcess): Promise<number> {
  const left = descendants(child.pid as number);
  for (const p of left.reverse()) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await exited(child);
  return left.length;
}
