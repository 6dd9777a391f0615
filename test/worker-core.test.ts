import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/store/store.js";
import { DEFAULT_BACKOFF, decideAfterClose, ownerInstance } from "../src/worker/disconnect-policy.js";

describe("disconnect policy", () => {
  it("reconnects at once after 515 restartRequired", () => {
    expect(decideAfterClose(515, 4, 0)).toEqual({
      action: "reconnect",
      delayMs: 0,
      attempt: 0,
      state: "reconnecting",
    });
  });

  it.each([408, 428, 500, 503, undefined, 999])(
    "backs off exponentially, capped, with jitter, after %s",
    (code) => {
      const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
      const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((attempt) =>
        decideAfterClose(code, attempt, 0, noJitter, 0.5),
      );
      expect(delays.map((d) => (d.action === "reconnect" ? d.delayMs : -1))).toEqual([
        1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
      ]);
      const low = decideAfterClose(code, 2, 0, DEFAULT_BACKOFF, 0);
      const high = decideAfterClose(code, 2, 0, DEFAULT_BACKOFF, 0.999);
      expect(low.action === "reconnect" && low.delayMs).toBe(3_200);
      expect(high.action === "reconnect" && high.delayMs).toBeGreaterThan(4_700);
    },
  );

  it("resets the backoff after a stable period open", () => {
    const d = decideAfterClose(428, 6, DEFAULT_BACKOFF.stableAfterMs, { ...DEFAULT_BACKOFF, jitter: 0 });
    expect(d).toEqual({ action: "reconnect", delayMs: 1_000, attempt: 1, state: "reconnecting" });
  });

  it.each([
    [440, "replaced"],
    [401, "qr_required"],
    [411, "multidevice_mismatch"],
    [403, "forbidden"],
    [405, "outdated_client"],
  ])("stops after %s with state %s (no reconnect loop)", (code, state) => {
    expect(decideAfterClose(code, 0, 0)).toEqual({ action: "stop", state });
  });

  it("spreads companies over instances with a stable hash", () => {
    const ids = Array.from({ length: 300 }, (_, i) => `company-${i}`);
    const counts = [0, 0, 0];
    for (const id of ids) counts[ownerInstance(id, 3)] = (counts[ownerInstance(id, 3)] ?? 0) + 1;
    for (const c of counts) expect(c).toBeGreaterThan(60);
    expect(ids.map((id) => ownerInstance(id, 3))).toEqual(ids.map((id) => ownerInstance(id, 3)));
    expect(ownerInstance("acme", 1)).toBe(0);
  });
});

describe("leases (real SQLite)", () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "warden-lease-"));
    store = openStore(path.join(dir, "warden.db"));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets one holder at a time hold a company; an expired lease is taken over without overlap", () => {
    expect(store.leases.acquire("acme", "w0", 10, 1_000, 5_000)).toBe(true);
    expect(store.leases.acquire("acme", "w1", 11, 2_000, 5_000)).toBe(false);
    expect(store.leases.renew("acme", "w0", 3_000, 5_000)).toBe(true);
    expect(store.leases.acquire("acme", "w1", 11, 7_999, 5_000)).toBe(false);
    // w0 died: its lease (expiring at 8000) is taken over at 8000.
    expect(store.leases.acquire("acme", "w1", 11, 8_000, 5_000)).toBe(true);
    expect(store.leases.renew("acme", "w0", 8_001, 5_000)).toBe(false);
    expect(store.leases.get("acme")?.holder).toBe("w1");
    store.leases.release("acme", "w1", 9_000, "stopped");
    expect(store.leases.get("acme")).toBeUndefined();
    expect(store.leases.history()).toEqual([
      {
        company: "acme",
        holder: "w0",
        pid: 10,
        acquiredAt: 1_000,
        releasedAt: 8_000,
        releaseReason: "expired",
      },
      {
        company: "acme",
        holder: "w1",
        pid: 11,
        acquiredAt: 8_000,
        releasedAt: 9_000,
        releaseReason: "stopped",
      },
    ]);
  });

  it("renews all of a holder's leases in one call and names the ones taken over, without retaking them", () => {
    const companies = Array.from({ length: 2_000 }, (_, i) => `c${i}`);
    for (const c of companies) expect(store.leases.acquire(c, "w0", 10, 1_000, 5_000)).toBe(true);
    expect(store.leases.renewAll(companies, "w0", 3_000, 5_000)).toEqual([]);
    expect(store.leases.get("c1999")?.expiresAt).toBe(8_000);
    // c7 expired and was taken by w1; c8 was released; w0's list also names a company it never held.
    expect(store.leases.acquire("c7", "w1", 11, 8_000, 5_000)).toBe(true);
    store.leases.release("c8", "w0", 8_000, "stopped");
    expect(store.leases.renewAll([...companies, "never"], "w0", 8_000, 5_000)).toEqual(["c7", "c8", "never"]);
    expect(store.leases.get("c7")).toMatchObject({ holder: "w1", expiresAt: 13_000 });
    expect(store.leases.get("c8")).toBeUndefined();
    expect(store.leases.get("never")).toBeUndefined();
    expect(store.leases.get("c6")).toMatchObject({ holder: "w0", expiresAt: 13_000 });
    expect(store.leases.renewAll([], "w0", 9_000, 5_000)).toEqual([]);
  });

  it("lets two connections race for a lease and gives it to exactly one", async () => {
    const other = openStore(path.join(dir, "warden.db"));
    try {
      const now = Date.now();
      const results = [
        store.leases.acquire("race", "a", 1, now, 10_000),
        other.leases.acquire("race", "b", 2, now, 10_000),
      ];
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      other.close();
    }
  });

  it("records transitions and derives how long a company has been down", () => {
    const c = store.connections;
    c.transition({ company: "acme", to: "connecting", code: null, message: "start", holder: "w0" }, 1_000);
    expect(c.get("acme")?.downSince).toBe(1_000);
    c.transition({ company: "acme", to: "open", code: null, message: "connected", holder: "w0" }, 2_000);
    expect(c.get("acme")).toMatchObject({ state: "open", since: 2_000, downSince: null });
    c.transition({ company: "acme", to: "reconnecting", code: 428, message: "closed", holder: "w0" }, 5_000);
    c.transition({ company: "acme", to: "reconnecting", code: 408, message: "lost", holder: "w0" }, 9_000);
    expect(c.get("acme")).toMatchObject({ state: "reconnecting", since: 9_000, downSince: 5_000, code: 408 });
    expect(c.transitionsOf("acme").map((t) => [t.from, t.to, t.code])).toEqual([
      [null, "connecting", null],
      ["connecting", "open", null],
      ["open", "reconnecting", 428],
      ["reconnecting", "reconnecting", 408],
    ]);
  });
});

describe("two processes writing warden.db (real SQLite, two connections)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "warden-two-writers-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a read-then-write transaction holds the write lock from its start: the other writer waits, it never fails", () => {
    const supervisor = openStore(path.join(dir, "warden.db"));
    // The worker's side with no busy wait: whatever it is refused, it is refused at once.
    const worker = openStore(path.join(dir, "warden.db"), { busyTimeoutMs: 0 });
    try {
      let workerWrite = "not tried";
      supervisor.transaction(() => {
        supervisor.leases.get("acme");
        try {
          worker.connections.transition(
            { company: "acme", to: "connecting", code: null, message: "start", holder: "w0" },
            1_000,
          );
          workerWrite = "written";
        } catch (err) {
          workerWrite = (err as Error).message;
        }
        // Deferred, this write failed with "database is locked" once the worker had written.
        supervisor.leases.acquire("acme", "action:x", 1, 1_000, 5_000);
      });
      expect(workerWrite).toBe("database is locked");
      expect(supervisor.leases.get("acme")?.holder).toBe("action:x");
      // Once the supervisor committed, the worker's transition (itself IMMEDIATE) goes through.
      worker.connections.transition(
        { company: "acme", to: "connecting", code: null, message: "start", holder: "w0" },
        2_000,
      );
      expect(supervisor.connections.get("acme")?.state).toBe("connecting");
    } finally {
      worker.close();
      supervisor.close();
    }
  });
});
