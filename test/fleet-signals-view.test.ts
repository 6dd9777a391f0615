/**
 * The dashboard and /api read the fleet's decrypt failures in one query, with each company's own
 * `signals.alertAt.window`, and show the same figures as the per-company summary does.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { scanFolder } from "../src/fleet/scan-folder.js";
import { companyView, companyViews } from "../src/http/fleet-view.js";
import { decryptFailuresWithin, summariseSignals } from "../src/signals/signal-summary.js";
import { openStore } from "../src/store/store.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { tempDir } from "./helpers/temp-dir.js";

const MIN = 60_000;
// 30 s into a minute: a window's first bucket is partly outside it (the boundary case).
const NOW = Date.UTC(2026, 11, 2, 12, 0, 30);
const minute = (ago: number) => Math.floor(NOW / MIN) * MIN - ago * MIN;

describe("fleet decrypt failures", () => {
  it("one query for the fleet gives every company the figure its own window gives", async () => {
    const root = tempDir();
    const sessionsDir = path.join(root, "sessions");
    const configDir = path.join(root, "config");
    mkdirSync(path.join(configDir, "companies"), { recursive: true });
    writeFileSync(path.join(configDir, "warden.json"), JSON.stringify({ sessionsDir }));
    // One company looks at 30 minutes, the others at the default 10.
    writeFileSync(
      path.join(configDir, "companies", "wide.json"),
      JSON.stringify({ signals: { alertAt: { window: "30m" } } }),
    );
    const ids = ["calm", "storm", "wide", "old-only"];
    for (const id of ids) await createCompanyFolder(path.join(sessionsDir, id), { preKeys: 2 });
    const config = loadConfig(path.join(configDir, "warden.json"));
    const store = openStore(path.join(root, "warden.db"));
    try {
      for (const id of ids)
        store.companies.save(await scanFolder(path.join(sessionsDir, id), id, NOW, new Map()), 2);
      const decrypt = (company: string, ago: number, count: number, reason = "Bad MAC") =>
        store.signals.add(company, minute(ago), [{ kind: "decrypt-failure", reason, count }]);
      decrypt("storm", 0, 15);
      decrypt("storm", 3, 10, "No matching sessions");
      decrypt("storm", 10, 4); // the bucket the 10-minute window starts in
      decrypt("storm", 11, 100); // before it
      store.signals.add("storm", minute(1), [{ kind: "session-churn", reason: "closed", count: 50 }]);
      decrypt("wide", 25, 7);
      decrypt("wide", 2, 1);
      decrypt("old-only", 20, 30); // outside its 10-minute window
      decrypt("gone", 1, 5); // a company without a folder: no view

      let perCompanyReads = 0;
      let fleetReads = 0;
      const signals = store.signals;
      const counted = {
        ...store,
        signals: {
          ...signals,
          window: (...args: Parameters<typeof signals.window>) => {
            perCompanyReads++;
            return signals.window(...args);
          },
          fleetDecryptFailures: (from: number, to: number) => {
            fleetReads++;
            return signals.fleetDecryptFailures(from, to);
          },
        },
      };
      const source = { store: counted, config: () => config, now: () => NOW };
      const views = companyViews(source);
      expect(fleetReads).toBe(1);
      expect(perCompanyReads).toBe(0);

      const expected: Record<string, number> = {};
      const fleet = signals.fleetDecryptFailures(minute(40), NOW);
      for (const id of ids) {
        const window = (config.companies.get(id) ?? config.defaults).signals.alertAt.window;
        const one = summariseSignals(signals, id, NOW, window).decryptFailures;
        expect(decryptFailuresWithin(fleet.get(id), NOW, window), id).toBe(one);
        expected[id] = one;
      }
      expect(expected).toEqual({ calm: 0, storm: 29, wide: 8, "old-only": 0 });

      // What the fleet table shows is what the company's own view shows.
      for (const view of views) {
        const single = companyView({ store, config: () => config, now: () => NOW }, view.id);
        expect(view.attention, view.id).toEqual(single?.attention);
      }
      const storm = views.find((v) => v.id === "storm");
      expect(storm?.attention.summary).toContain("decrypt-failure storm: 29 decrypt failures in 10m");
      expect(views.find((v) => v.id === "wide")?.attention.summary).toContain("8 decrypt failures in 30m");
      expect(views.find((v) => v.id === "calm")?.attention.severity).toBe("ok");
    } finally {
      store.close();
    }
  });
});
