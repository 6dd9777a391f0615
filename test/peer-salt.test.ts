/** Peer hashes are keyed with a per-installation secret kept in the database. */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { hashPeer } from "../src/signals/hash-peer.js";
import { openStore } from "../src/store/store.js";

const root = mkdtempSync(path.join(os.tmpdir(), "warden-salt-"));
afterEach(() => rmSync(root, { recursive: true, force: true }));

it("one salt per installation, kept across restarts; the same number hashes differently elsewhere", () => {
  const jid = "5511900000001:3@s.whatsapp.net";
  const a = openStore(path.join(root, "a", "warden.db"));
  const saltA = a.signals.peerSalt();
  expect(saltA).toMatch(/^[0-9a-f]{64}$/);
  const hashA = hashPeer(jid, saltA);
  a.close();
  const again = openStore(path.join(root, "a", "warden.db"));
  expect(again.signals.peerSalt()).toBe(saltA);
  again.close();
  const b = openStore(path.join(root, "b", "warden.db"));
  expect(hashPeer(jid, b.signals.peerSalt())).not.toBe(hashA);
  b.close();
  // Devices of one contact are one peer; the bare sha256 of the number (a lookup table) is not it.
  expect(hashPeer("5511900000001@s.whatsapp.net", saltA)).toBe(hashA);
  const unsalted = createHash("sha256").update("5511900000001@s.whatsapp.net").digest("hex").slice(0, 10);
  expect(hashA).not.toBe(unsalted);
});
