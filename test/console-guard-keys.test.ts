/**
 * The libsignal console guard fails closed: a real session replaced by a new one makes libsignal
 * print "Closing session:" with the whole session object, private ratchet key included. Whatever
 * the async scope, nothing of it reaches the console; inside a company's scope it is counted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { holdsPrivateKey, installConsoleGuard } from "../src/signals/console-guard.js";
import type { SignalRecorder } from "../src/signals/signal-recorder.js";
import { createParty, startSession } from "./helpers/signal-pair.js";

const METHODS = ["log", "info", "warn", "error", "debug"] as const;
let root: string;
let printed: string[];
let restore: () => void;

/** Replaces the console with one that records what would have been printed (below the guard). */
function captureConsole(): void {
  printed = [];
  const saved = METHODS.map((m) => [m, console[m]] as const);
  for (const m of METHODS)
    console[m] = (...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    };
  restore = () => {
    for (const [m, fn] of saved) console[m] = fn;
  };
}

function countingRecorder() {
  const counts = new Map<string, number>();
  const recorder = {
    record() {},
    suppressed(company: string) {
      counts.set(company, (counts.get(company) ?? 0) + 1);
    },
    flush() {},
    close() {},
  } as unknown as SignalRecorder;
  return { recorder, counts };
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "warden-guard-"));
  captureConsole();
});
afterEach(() => {
  restore();
  rmSync(root, { recursive: true, force: true });
});

async function replaceSession(): Promise<void> {
  const alice = await createParty(path.join(root, `a${Math.random()}`), "5511900000001@s.whatsapp.net");
  const bob = await createParty(path.join(root, `b${Math.random()}`), "5511900000002@s.whatsapp.net");
  await startSession(alice, bob, 1);
  await startSession(alice, bob, 2); // the open session is closed in favour of the new one
}

describe("the console guard fails closed", () => {
  it("without the guard, libsignal prints the private key (what the guard must stop)", async () => {
    await replaceSession();
    expect(printed.some((l) => l.startsWith("Closing session:"))).toBe(true);
    expect(printed.join("\n")).toContain("privKey");
  });

  it("outside any company's scope the dump is swallowed and counted as unscoped", async () => {
    const { recorder, counts } = countingRecorder();
    const guard = installConsoleGuard(recorder);
    try {
      await replaceSession();
      expect(guard.unscopedSuppressed).toBeGreaterThan(0);
    } finally {
      guard.close();
    }
    expect(printed.join("\n")).not.toContain("privKey");
    expect(printed.some((l) => l.includes("Closing session"))).toBe(false);
    expect(counts.size).toBe(0);
  });

  it("inside a company's scope it is counted for the company; ordinary lines pass", async () => {
    const { recorder, counts } = countingRecorder();
    const guard = installConsoleGuard(recorder);
    try {
      await guard.within("acme", () => replaceSession());
      console.info("an ordinary line", { private: true });
    } finally {
      guard.close();
    }
    expect(counts.get("acme")).toBeGreaterThan(0);
    expect(printed.join("\n")).not.toContain("privKey");
    expect(printed).toEqual(['an ordinary line {"private":true}']);
  });

  it("finds a private key at any depth, not a flag", () => {
    expect(holdsPrivateKey([{ a: { b: { ephemeralKeyPair: { privKey: Buffer.alloc(32, 1) } } } }])).toBe(
      true,
    );
    expect(holdsPrivateKey(["x", { keyPair: { private: "A".repeat(44) } }])).toBe(true);
    expect(holdsPrivateKey([{ private: false, privKey: null }])).toBe(false);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(holdsPrivateKey([cyclic])).toBe(false);
  });
});
