import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { awaitControlRequest } from "../src/actions/await-control-request.js";
import { ErrorCodes, WardenError } from "../src/errors.js";
import { openStore, type Store } from "../src/store/store.js";

let store: Store;
let dir: string;

afterEach(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function open(): Store {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-control-"));
  store = openStore(path.join(dir, "warden.db"));
  return store;
}

const clock = { now: () => 1_000 };
const base = {
  clock,
  company: "acme",
  action: "stop" as const,
  args: {},
  requestedBy: "cli:test",
  pollMs: 5,
  cancelReason: "nobody came",
  timeoutError: (id: number) => new WardenError(ErrorCodes.CONTROL_TIMEOUT, `timed out ${id}`),
};

describe("awaitControlRequest", () => {
  it("resolves with the acknowledged request, ok or not", async () => {
    const s = open();
    const waiting = awaitControlRequest({ ...base, store: s, timeoutMs: 30_000 });
    const [request] = s.control.pending();
    expect(request).toMatchObject({ company: "acme", requestedBy: "cli:test", createdAt: 1_000 });
    expect(s.control.pick(request?.id as number, "worker-0", 2_000)).toBe(true);
    s.control.finish(request?.id as number, false, "could not", 3_000);
    const done = await waiting;
    expect(done).toMatchObject({ company: "acme", action: "stop", ok: false, result: "could not" });
  });

  it("withdraws a request nobody picked up before the deadline and throws the caller's error", async () => {
    const s = open();
    const err = await awaitControlRequest({ ...base, store: s, timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CONTROL_TIMEOUT });
    const id = Number(/timed out (\d+)/.exec((err as Error).message)?.[1]);
    expect(s.control.get(id)).toMatchObject({ ok: false, result: "nobody came", doneAt: 1_000 });
  });

  it("withdraws the request when the caller aborts (shutting down)", async () => {
    const s = open();
    const abort = new AbortController();
    const waiting = awaitControlRequest({ ...base, store: s, timeoutMs: 30_000, signal: abort.signal });
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: ErrorCodes.CONTROL_ABORTED });
    expect(s.control.pending()).toEqual([]);
  });
});
