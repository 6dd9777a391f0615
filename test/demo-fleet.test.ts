/**
 * The demo teaches the rule the product runs on: on the default counting rule (stale files), a
 * company's level comes from stale sessions in the demo's first minute, and a cleanup brings it
 * back to ok (live contacts and creds.json stay). Runs the demo's fleet setup, not pm2.
 */

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AGING_EVERY_MS, buildDemoFleet, DEMO_COMPANIES } from "../scripts/demo-fleet.js";
import { createActionContext } from "../src/actions/action-context.js";
import { runCleanup } from "../src/actions/cleanup/cleanup.js";
import { collectStatus } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { databaseFile } from "../src/home-layout.js";
import { openStore } from "../src/store/store.js";
import { tempDir } from "./helpers/temp-dir.js";

describe("the demo fleet", () => {
  it("runs on the default basis; shop-critical is critical from stale files and a cleanup brings it to ok", async () => {
    const dir = path.join(tempDir(), "demo");
    const start = Date.now();
    const layout = await buildDemoFleet(dir, start);
    const configFile = path.join(layout.configDir, "warden.json");
    const raw = JSON.parse(readFileSync(configFile, "utf8"));
    expect(raw.count).toBeUndefined(); // the default rule, not a demo-only one
    expect(raw.preKeyReserve).toBeUndefined();
    const config = loadConfig(configFile);
    expect(config.defaults.count.basis).toBe("stale");
    expect(Object.keys(DEMO_COMPANIES)).toHaveLength(14);

    const store = openStore(databaseFile(layout.home));
    try {
      // Half a minute into the demo (off the 5 s steps at which sessions age in).
      const early = start + 32_000;
      const byId = new Map((await collectStatus(config, store, early)).map((r) => [r.id, r]));
      const shop = byId.get("shop-critical");
      expect(shop?.files.basis).toBe("stale");
      expect(shop?.files.stale).toBe(186);
      expect(shop?.level).toBe("critical");
      expect(shop?.files.live).toBeGreaterThan(60); // contacts, lid mappings, creds.json
      expect(byId.get("hotel-warning")?.level).toBe("warning");
      expect(byId.get("bakery-healthy")?.level).toBe("ok");
      // Sessions age in: garage-growing has 110 stale at the start, one more every 5 s.
      expect(byId.get("garage-growing")?.files.stale).toBe(110 + Math.floor(32_000 / AGING_EVERY_MS));

      const actions = createActionContext({ store, clock: { now: () => early }, config, home: layout.home });
      const result = await runCleanup(actions, { company: "shop-critical", actor: "test" });
      expect(result.deleted).toBe(186);
      const after = (await collectStatus(config, store, early + 1_000)).find((r) => r.id === "shop-critical");
      expect(after?.files.stale).toBe(0);
      expect(after?.level).toBe("ok");
      expect(existsSync(path.join(config.sessionsDir, "shop-critical", "creds.json"))).toBe(true);
      expect(after?.files.live).toBe(shop?.files.live);
    } finally {
      store.close();
    }
  });
});
