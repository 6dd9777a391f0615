/**
 * Signal health on real libsignal failures: two local identities with Baileys' own
 * signal repository, messages decrypted through Baileys' decryptMessageNode with the wrapped
 * worker logger, counted into real SQLite.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { wrapBaileysLogger } from "../src/signals/baileys-logger.js";
import { classifyLogRecord, decryptReasonOf, streamErrorReason } from "../src/signals/classify-signal.js";
import { installConsoleGuard } from "../src/signals/console-guard.js";
import { hashPeer } from "../src/signals/hash-peer.js";
import { createSignalRecorder, MINUTE } from "../src/signals/signal-recorder.js";
import { decryptStormFor, summariseSignals } from "../src/signals/signal-summary.js";
import { openStore, type Store } from "../src/store/store.js";
import {
  createParty,
  deletePreKey,
  deleteSessions,
  encryptTo,
  type Party,
  receive,
  startSession,
  tamperSessions,
} from "./helpers/signal-pair.js";

let root: string;
let store: Store;
let lines: Record<string, unknown>[];
let raw: string[];
let now: number;

function pinoLogger() {
  const sink = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return pino({ level: "debug" }, sink);
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "warden-signals-"));
  store = openStore(path.join(root, "warden.db"));
  lines = [];
  raw = [];
  now = Date.UTC(2026, 10, 30, 12, 0, 10);
});

afterEach(async () => {
  store.close();
  await rm(root, { recursive: true, force: true });
});

const ALICE = "5511900000001@s.whatsapp.net";

let peers = 0;
/** A party in the test's folder; the first one made in a test is ALICE (the sender). */
function party(name: string): Promise<Party> {
  return createParty(
    path.join(root, name),
    name === "alice" ? ALICE : `55119000001${peers++}@s.whatsapp.net`,
  );
}

function setup() {
  const logger = pinoLogger();
  const recorder = createSignalRecorder({ signals: store.signals, clock: { now: () => now }, logger });
  const baileys = wrapBaileysLogger(
    logger.child({ component: "baileys" }, { level: "warn" }),
    "acme",
    recorder,
  );
  return { logger, recorder, baileys };
}

describe("real libsignal failures through Baileys' decryptMessageNode and the wrapped logger", () => {
  it("counts Bad MAC, Invalid PreKey ID, No matching sessions and No session record by reason and hashed peer", async () => {
    const [alice, bob, carol, dave] = [
      await party("alice"),
      await party("bob"),
      await party("carol"),
      await party("dave"),
    ];
    const { recorder, baileys } = setup();

    // Bad MAC: bob's record of a pkmsg session is corrupted; every further pkmsg of it fails.
    await startSession(alice, bob, 2);
    expect(await receive(bob, await encryptTo(alice, bob, "hello", "m1"), baileys)).toEqual({
      text: "hello",
    });
    await tamperSessions(bob.dir);
    for (let i = 0; i < 3; i++)
      expect(await receive(bob, await encryptTo(alice, bob, `x${i}`, `b${i}`), baileys)).toEqual({
        stub: "Bad MAC",
      });

    // Invalid PreKey ID: the bundle's pre-key was deleted before the first message arrived.
    await startSession(alice, carol, 3);
    await deletePreKey(carol, 3);
    expect(await receive(carol, await encryptTo(alice, carol, "x", "c1"), baileys)).toEqual({
      stub: "Invalid PreKey ID",
    });

    // After a reply the sender's messages are type "msg": a corrupted record gives libsignal's
    // "No matching sessions found for message" (its console says Bad MAC per session tried), a
    // deleted one "No session record".
    await startSession(alice, dave, 1);
    await receive(dave, await encryptTo(alice, dave, "x", "d1"), baileys);
    await receive(alice, await encryptTo(dave, alice, "re", "d2"), baileys);
    const guard = installConsoleGuard(recorder);
    try {
      const m = await encryptTo(alice, dave, "m", "d3");
      await tamperSessions(dave.dir);
      expect(await guard.within("acme", () => receive(dave, m, baileys))).toEqual({
        stub: "No matching sessions found for message",
      });
    } finally {
      guard.close();
    }
    await deleteSessions(dave.dir);
    expect(await receive(dave, await encryptTo(alice, dave, "m2", "d4"), baileys)).toEqual({
      stub: "No session record",
    });

    recorder.flush();
    const s = summariseSignals(store.signals, "acme", now, 10 * MINUTE);
    expect(s.byReason).toEqual({
      "Bad MAC": 3,
      "Invalid PreKey ID": 1,
      "No matching sessions": 1,
      "No session record": 1,
    });
    expect(s.decryptFailures).toBe(6);
    expect(s.topPeers[0]).toEqual({ peer: hashPeer(ALICE, store.signals.peerSalt()), count: 6 });
    // Not one stack trace, jid or number in the log: the failures are only counted.
    expect(lines.filter((l) => l.msg === "failed to decrypt message")).toHaveLength(0);
    expect(raw.join("\n")).not.toContain("5511900000001");
  });

  it("counts libsignal's session closes from its console and keeps the session dump out of the log", async () => {
    const [alice, erin] = [await party("alice"), await party("erin")];
    const { recorder, baileys } = setup();
    await startSession(alice, erin, 1);
    await receive(erin, await encryptTo(alice, erin, "x", "e1"), baileys);
    // The sender lost its session and starts over from a new bundle: erin closes the open one.
    await deleteSessions(alice.dir);
    await startSession(alice, erin, 2);
    const stanza = await encryptTo(alice, erin, "y", "e2");
    // libsignal writes to the global console: capture what gets through, then guard on top.
    const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error };
    const printed: string[] = [];
    for (const m of ["log", "info", "warn", "error"] as const)
      console[m] = (...args: unknown[]) => void printed.push(String(args[0]));
    const guard = installConsoleGuard(recorder);
    let result: unknown;
    try {
      expect(() => installConsoleGuard(recorder)).toThrow(/already installed/);
      result = await guard.within("acme", () => receive(erin, stanza, baileys));
      console.info("a line of someone else");
    } finally {
      guard.close();
      Object.assign(console, saved);
    }
    expect(result).toEqual({ text: "y" });
    expect(printed).toEqual(["a line of someone else"]);
    recorder.flush();
    expect(store.signals.window("acme", 0, now).byKind["session-churn"]).toEqual({
      "incoming prekey bundle": 1,
    });
  });

  it("classifies stream errors with Baileys' own close codes", () => {
    expect(
      streamErrorReason({ tag: "stream:error", attrs: {}, content: [{ tag: "conflict", attrs: {} }] }),
    ).toBe("conflict 440");
    expect(
      streamErrorReason({
        tag: "stream:error",
        attrs: { code: "401" },
        content: [{ tag: "conflict", attrs: { type: "device_removed" } }],
      }),
    ).toBe("device_removed 401");
    expect(streamErrorReason({ tag: "stream:error", attrs: { code: "515" }, content: [] })).toBe(
      "restart required 515",
    );
    expect(
      classifyLogRecord(
        { reasonNode: {}, fullErrorNode: { tag: "stream:error", attrs: {} } },
        "stream errored out",
      ),
    ).toEqual({ signal: { kind: "stream-error", reason: "unknown 500" }, suppress: false });
  });

  it("maps every libsignal and Baileys error text to its reason", () => {
    expect(decryptReasonOf("Error: Bad MAC")).toBe("Bad MAC");
    expect(decryptReasonOf("Bad MAC length")).toBe("Bad MAC");
    expect(decryptReasonOf("SessionError: No session record")).toBe("No session record");
    expect(decryptReasonOf("PreKeyError: Invalid PreKey ID")).toBe("Invalid PreKey ID");
    expect(decryptReasonOf("No SenderKeyRecord found for decryption")).toBe("No SenderKeyRecord");
    expect(decryptReasonOf("No matching sessions found for message")).toBe("No matching sessions");
    expect(decryptReasonOf("MessageCounterError: Key used already or never filled")).toBe("Key used already");
    expect(decryptReasonOf("Message absent from node")).toBe("Message absent from node");
    expect(decryptReasonOf("something new")).toBe("other");
  });
});

describe("the recorder", () => {
  it("writes one summary line per company per minute and a storm is the ladder's evidence", () => {
    const { recorder, baileys } = setup();
    const fail = (reason: string, peer: string) =>
      baileys.error(
        { key: { id: "X" }, err: new Error(reason), messageType: "msg", author: peer, sender: peer },
        "failed to decrypt message",
      );
    for (let i = 0; i < 30; i++) fail("Bad MAC", `55119000000${i % 3}@s.whatsapp.net`);
    fail("No session record", "5511900000099:2@s.whatsapp.net");
    baileys.info({ msgAttrs: { from: ALICE, id: "X" }, retryCount: 1 }, "sent retry receipt");
    recorder.flush();
    expect(lines.filter((l) => String(l.msg).startsWith("Signals of acme"))).toHaveLength(0);
    now += MINUTE;
    recorder.flush();
    const summaries = lines.filter((l) => String(l.msg).startsWith("Signals of acme"));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.msg).toContain("31 decrypt-failure (Bad MAC 30, No session record 1)");
    expect(summaries[0]?.suppressedLines).toBe(31);

    const settings = { signals: { alertAt: { count: 20, window: 10 * MINUTE } } };
    expect(decryptStormFor(store.signals, "acme", now, settings)).toEqual({
      failures: 31,
      byReason: { "Bad MAC": 30, "No session record": 1 },
    });
    expect(decryptStormFor(store.signals, "acme", now + 12 * MINUTE, settings)).toBeNull();
    expect(decryptStormFor(store.signals, "other", now, settings)).toBeNull();
    expect(summariseSignals(store.signals, "acme", now, 10 * MINUTE).retryReceipts).toBe(1);
  });
});
