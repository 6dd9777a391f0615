/**
 * A corrupt creds.json is its own alert with the reason, and never counts toward
 * a network outage. Before: 3 corrupt of 5 were reported as "Network outage: 3 of 5 companies went
 * down" while 2 were connected, no alert named the creds, and a creds.json of `[]` started pairing.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectOutage } from "../src/ladder/outage.js";
import { useAtomicMultiFileAuthState } from "../src/worker/auth-state.js";
import { FleetFixture } from "./helpers/fleet-fixture.js";
import { createPairedFolder } from "./helpers/paired-folder.js";

let fx: FleetFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const settings = { outageShare: 0.5, outageMinCompanies: 3, outageWindow: 120_000 };

describe("corrupt creds and outages", () => {
  it("three companies down with corrupt creds and two connected is not an outage", () => {
    const now = 1_000_000;
    const corrupt = ["a", "b", "c"].map((company) => ({
      company,
      state: "reconnecting",
      downSince: now - 1_000,
      credsCorrupt: true,
    }));
    const open = ["d", "e"].map((company) => ({ company, state: "open", downSince: null }));
    const verdict = detectOutage(
      { companies: [...corrupt, ...open], probeOk: true, wasOffline: false, settings },
      now,
    );
    expect(verdict).toMatchObject({ offline: false });
    // The same three down for another reason is an outage.
    const plain = corrupt.map(({ credsCorrupt: _c, ...c }) => c);
    expect(
      detectOutage({ companies: [...plain, ...open], probeOk: true, wasOffline: false, settings }, now)
        .offline,
    ).toBe(true);
  });
});

describe("the supervisor's corrupt-creds alert", () => {
  it("alerts once per corrupt creds.json with the reason, and once when it is readable again", async () => {
    const f = new FleetFixture({});
    fx = f;
    await createPairedFolder(path.join(f.sessionsDir, "good"));
    await createPairedFolder(path.join(f.sessionsDir, "empty-array"));
    writeFileSync(path.join(f.sessionsDir, "empty-array", "creds.json"), "[]");
    await createPairedFolder(path.join(f.sessionsDir, "torn"));
    writeFileSync(path.join(f.sessionsDir, "torn", "creds.json"), '{"noiseKey": {');
    const { supervisor, store } = await f.startSupervisor({ token: null, watch: false });
    const alerts = () => store.outbox.list().filter((r) => r.kind.startsWith("creds-"));
    expect(alerts().map((r) => [r.company, r.kind])).toEqual([
      ["empty-array", "creds-corrupt"],
      ["torn", "creds-corrupt"],
    ]);
    const text = alerts().map((r) => r.text);
    expect(text[0]).toContain("creds.json does not hold a creds object");
    expect(text[1]).toContain("creds.json does not parse");
    expect(store.companies.get("torn")?.credsError).toMatch(/does not parse/);
    // A second full scan: nothing new. Then the torn one is fixed: one "no longer corrupt".
    await supervisor.fleet.fullScan();
    expect(alerts()).toHaveLength(2);
    await createPairedFolder(path.join(f.root, "fixed"));
    const { readFileSync } = await import("node:fs");
    writeFileSync(
      path.join(f.sessionsDir, "torn", "creds.json"),
      readFileSync(path.join(f.root, "fixed", "creds.json")),
    );
    await supervisor.fleet.fullScan();
    expect(alerts().map((r) => [r.company, r.kind])).toEqual([
      ["empty-array", "creds-corrupt"],
      ["torn", "creds-corrupt"],
      ["torn", "creds-ok"],
    ]);
  });

  it("a worker never starts pairing over a creds.json that holds []", async () => {
    const f = new FleetFixture({});
    fx = f;
    const dir = path.join(f.sessionsDir, "acme");
    await createPairedFolder(dir);
    writeFileSync(path.join(dir, "creds.json"), "[]");
    await expect(useAtomicMultiFileAuthState(dir)).rejects.toThrow(/does not hold a creds object/);
  });
});
