/**
 * The opt-in session repair on real libsignal sessions: a peer's Bad MAC storm is
 * counted through the worker's logger path, the repair removes only that peer's session files
 * through the hold / backup / verify / audit path, and the measured outcome: the peer's next
 * message fails once ("No session record"), the retry path (a fresh bundle) decrypts again.
 */

import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createActionContext } from "../src/actions/action-context.js";
import { listBackups } from "../src/actions/backup/backup.js";
import {
  planSessionRepair,
  REPAIR_ACTION,
  repairCandidates,
  runSessionRepair,
} from "../src/actions/cleanup/repair-sessions.js";
import { companySettings, loadConfig } from "../src/config/load.js";
import { wrapBaileysLogger } from "../src/signals/baileys-logger.js";
import { hashPeer } from "../src/signals/hash-peer.js";
import { createSignalRecorder } from "../src/signals/signal-recorder.js";
import { openStore, type Store } from "../src/store/store.js";
import { createSessionRepairs } from "../src/supervisor/session-repairs.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import {
  createParty,
  encryptTo,
  type Party,
  receive,
  startSession,
  tamperSessions,
} from "./helpers/signal-pair.js";

const ALICE = "5511900000001@s.whatsapp.net";
const CAROL = "5511900000003@s.whatsapp.net";
const BOB = "5511900000002:7@s.whatsapp.net";

let fx: FleetFixture;
let store: Store;
beforeEach(() => {
  fx = new FleetFixture({ signals: { repairSessions: true, repairAfter: { count: 5, window: "10m" } } });
  store = openStore(path.join(fx.home, "warden.db"));
});
afterEach(async () => {
  store.close();
  await fx.cleanup();
});

/** bob is the company "acme" (its folder under sessionsDir); alice and carol chat with it. */
async function company() {
  const bob = await createParty(path.join(fx.sessionsDir, "acme"), BOB, 10);
  const alice = await createParty(path.join(fx.root, "alice"), ALICE);
  const carol = await createParty(path.join(fx.root, "carol"), CAROL);
  const recorder = createSignalRecorder({
    signals: store.signals,
    clock: { now: () => Date.now() },
    logger: fx.logger(),
  });
  const logger = wrapBaileysLogger(fx.logger().child({}, { level: "warn" }), "acme", recorder);
  // Both chat with bob and get replies: their messages are type "msg" on an established session.
  for (const [peer, preKey] of [
    [alice, 1],
    [carol, 2],
  ] as const) {
    await startSession(peer, bob, preKey);
    await receive(bob, await encryptTo(peer, bob, "hi", `${peer.jid}-1`), logger);
    await receive(peer, await encryptTo(bob, peer, "re", `${peer.jid}-2`), logger);
  }
  return { bob, alice, carol, recorder, logger };
}

async function send(from: Party, to: Party, n: number, logger: Parameters<typeof receive>[2], tag: string) {
  let ok = 0;
  const stubs: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await receive(to, await encryptTo(from, to, `${tag}${i}`, `${tag}${i}`), logger);
    if (r.text !== undefined) ok++;
    else stubs.push(r.stub ?? "");
  }
  return { ok, stubs };
}

/** The action context a supervisor would pass (its clock is real time here). */
function actionsOf() {
  return createActionContext({
    store,
    clock: { now: () => Date.now() },
    config: () => loadConfig(fx.configFile),
    home: fx.home,
  });
}

describe("session repair", () => {
  it("removes only the failing peer's session files, backed up and audited; the peer decrypts again after one retry", async () => {
    const { bob, alice, recorder, logger } = await company();
    const settings = companySettings(loadConfig(fx.configFile), "acme");
    const files = await readdir(bob.dir);
    expect(files).toContain("session-5511900000001.0.json");
    expect(files).toContain("session-5511900000003.0.json");

    // bob's session records are corrupted; alice keeps writing: every message of hers fails.
    await tamperSessions(bob.dir);
    const storm = await send(alice, bob, 8, logger, "storm");
    expect(storm).toEqual({ ok: 0, stubs: Array(8).fill("No matching sessions found for message") });
    recorder.flush();

    const now = Date.now();
    const candidates = repairCandidates(store, "acme", now, settings);
    expect(candidates).toEqual([{ peer: hashPeer(ALICE, store.signals.peerSalt()), failures: 8 }]);

    const result = await runSessionRepair(actionsOf(), {
      company: "acme",
      settings,
      actor: "supervisor",
      peer: hashPeer(ALICE, store.signals.peerSalt()),
      failures: 8,
    });
    expect(result.plan.delete.map((d) => d.file)).toEqual(["session-5511900000001.0.json"]);
    expect(result.deleted).toBe(1);
    const after = await readdir(bob.dir);
    expect(after).not.toContain("session-5511900000001.0.json");
    expect(after).toContain("session-5511900000003.0.json");
    expect(after).toContain("creds.json");
    expect(after.filter((n) => n.startsWith("pre-key-"))).toHaveLength(
      files.filter((n) => n.startsWith("pre-key-")).length,
    );
    expect((await listBackups(path.join(fx.home, "backups"), "acme")).length).toBe(1);
    const audit = store.audit.list("acme").filter((r) => r.action === REPAIR_ACTION);
    expect(audit).toHaveLength(1);
    expect(audit[0]?.ok).toBe(true);
    expect(audit[0]?.detail.peer).toBe(hashPeer(ALICE, store.signals.peerSalt()));
    // The audit names the file (what a restore needs); alerts and logs only the hash.
    expect(audit[0]?.detail.files).toEqual(["session-5511900000001.0.json"]);

    // Measured: alice's next message fails once (no session), Baileys answers with a retry
    // receipt; alice rebuilds from bob's bundle (a pre-key the server still holds) and it decrypts.
    const first = await send(alice, bob, 1, logger, "after");
    expect(first.stubs).toEqual(["No session record"]);
    await startSession(alice, bob, 9);
    const healed = await send(alice, bob, 5, logger, "healed");
    expect(healed).toEqual({ ok: 5, stubs: [] });
    console.info(
      `session repair, measured: before ${storm.stubs.length}/${storm.stubs.length} failed; after the repair 1 failure (No session record), then ${healed.ok}/5 decrypted after the retry bundle`,
    );

    // At most once per peer per day, whatever the failures.
    expect(repairCandidates(store, "acme", Date.now(), settings)).toEqual([]);
  });

  it("the supervisor's runner repairs a due peer once and tells the operators, hash only", async () => {
    const { bob, alice, recorder, logger } = await company();
    await tamperSessions(bob.dir);
    await send(alice, bob, 6, logger, "storm");
    recorder.flush();
    const notes: { title: string; detail: string }[] = [];
    const repairs = createSessionRepairs({
      store,
      clock: { now: () => Date.now() },
      logger: fx.logger(),
      config: () => loadConfig(fx.configFile),
      actions: actionsOf(),
      notify: (_company, title, detail) => notes.push({ title, detail }),
    });
    await repairs.check();
    await repairs.check();
    await repairs.close();
    expect(notes).toHaveLength(1);
    expect(notes[0]?.title).toBe(
      `Session repair for acme: peer ${hashPeer(ALICE, store.signals.peerSalt())}`,
    );
    expect(notes[0]?.detail).toContain("6 Bad MAC failures in 10m: removed 1 session file(s)");
    expect(JSON.stringify(notes)).not.toContain("5511900000001");
    expect(await readdir(bob.dir)).not.toContain("session-5511900000001.0.json");
  });

  it("without the repair, the same storm goes on as long as the sender keeps its session", async () => {
    const { bob, alice, recorder, logger } = await company();
    await tamperSessions(bob.dir);
    const storm = await send(alice, bob, 20, logger, "storm");
    expect(storm.ok).toBe(0);
    recorder.flush();
    // The retry path with keys heals it too: the sender's new bundle closes the broken session.
    await startSession(alice, bob, 9);
    expect(await send(alice, bob, 3, logger, "rekeyed")).toEqual({ ok: 3, stubs: [] });
  });

  it("is refused while a worker holds the company, and never plans our own or non-session files", async () => {
    const { bob } = await company();
    const settings = companySettings(loadConfig(fx.configFile), "acme");
    expect(store.leases.acquire("acme", "worker:test", process.pid, Date.now(), 60_000)).toBe(true);
    const before = await readdir(bob.dir);
    await expect(
      runSessionRepair(actionsOf(), {
        company: "acme",
        settings,
        actor: "supervisor",
        peer: hashPeer(ALICE, store.signals.peerSalt()),
        failures: 9,
      }),
    ).rejects.toMatchObject({ code: "WARDEN_ERR_COMPANY_CONNECTED" });
    expect(await readdir(bob.dir)).toEqual(before);
    expect(existsSync(path.join(fx.home, "backups", "acme"))).toBe(false);

    const file = (name: string) => ({ name, category: "session" as const, size: 10, mtimeMs: 0 });
    const plan = planSessionRepair(
      [
        file("session-5511900000002.0.json"),
        file("session-5511900000002.3.json"),
        file("session-200000000000001_1.0.json"),
        file("session-200000000000001_1.2.json"),
        file("creds.json"),
        file("pre-key-1.json"),
        file("lid-mapping-5511900000001.json"),
      ],
      {
        peer: hashPeer("5511900000001@s.whatsapp.net", store.signals.peerSalt()),
        salt: store.signals.peerSalt(),
        ownUsers: ["5511900000002"],
        lidOf: new Map([["5511900000001", "200000000000001"]]),
      },
    );
    // The PN hash finds the sessions kept under the LID (both devices); nothing else.
    expect(plan.delete.map((d) => d.file)).toEqual([
      "session-200000000000001_1.0.json",
      "session-200000000000001_1.2.json",
    ]);
    const own = planSessionRepair([file("session-5511900000002.0.json")], {
      peer: hashPeer("5511900000002@s.whatsapp.net", store.signals.peerSalt()),
      salt: store.signals.peerSalt(),
      ownUsers: ["5511900000002"],
      lidOf: new Map(),
    });
    expect(own.delete).toEqual([]);
  });
});
