/**
 * Liveness where operators look, from `companyLiveness()`: a company whose socket is not open says
 * "not_open" in `status --json`, /api's views and the metrics (never null), and deaf, restricted and
 * flapping companies are in `warden health`'s recommendations and the digest with a command to run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collectStatus } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { scanFolder } from "../src/fleet/scan-folder.js";
import { buildDigest, renderDigestText } from "../src/http/digest.js";
import { companyViews } from "../src/http/fleet-view.js";
import { healthReport } from "../src/http/health-report.js";
import { createFleetMetrics } from "../src/http/metrics.js";
import type { LivenessRow } from "../src/store/liveness.js";
import { openStore, type Store } from "../src/store/store.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { tempDir } from "./helpers/temp-dir.js";

const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 2, 12);
const IDS = ["deafco", "down", "fine", "flappy", "locked"];

function row(company: string, fields: Partial<LivenessRow>): LivenessRow {
  return {
    company,
    openedAt: NOW - 3 * 3_600_000,
    lastInboundAt: NOW - 5 * MIN,
    lastReceiptAt: null,
    lastFrameAt: NOW - MIN,
    lastSendAt: null,
    lastSendCode: null,
    state: "ok",
    since: NOW - 3 * 3_600_000,
    reason: null,
    usualGapMs: 6 * MIN,
    silentForMs: null,
    thresholdMs: 30 * MIN,
    restrictedReason: null,
    restrictedUntil: null,
    queryAt: null,
    queryRttMs: null,
    checkedAt: NOW - MIN,
    ...fields,
  };
}

async function fleet(): Promise<{ store: Store; config: ReturnType<typeof loadConfig>; root: string }> {
  const root = tempDir();
  const sessionsDir = path.join(root, "sessions");
  const configFile = path.join(root, "config", "warden.json");
  mkdirSync(path.dirname(configFile), { recursive: true });
  writeFileSync(configFile, JSON.stringify({ sessionsDir }));
  for (const id of IDS) await createCompanyFolder(path.join(sessionsDir, id), { preKeys: 2 });
  const config = loadConfig(configFile);
  const store = openStore(path.join(root, "warden.db"));
  for (const id of IDS)
    store.companies.save(await scanFolder(path.join(sessionsDir, id), id, NOW, new Map()), 2);
  const to = (company: string, state: string, at: number) =>
    store.connections.transition({ company, to: state, code: null, message: null, holder: "w0" }, at);
  for (const id of IDS) to(id, "open", NOW - 3 * 3_600_000);
  to("down", "reconnecting", NOW - 2 * MIN);
  store.liveness.putState(row("fine", {}));
  store.liveness.putState(row("down", {})); // its last verdict, from while it was open
  store.liveness.putState(
    row("deafco", {
      state: "deaf",
      lastInboundAt: NOW - 130 * MIN,
      reason: "usual gap at this hour 6 min",
    }),
  );
  store.liveness.putState(
    row("locked", { restrictedReason: "reachout timelock", restrictedUntil: NOW + 5 * 3_600_000 }),
  );
  store.liveness.putState(row("flappy", {}));
  store.ladder.setMemory("flappy", { flappingAt: NOW - 20 * MIN }, NOW);
  return { store, config, root };
}

describe("liveness where operators look", () => {
  it('a company that is not open is "not_open" in status --json, the views and the metrics', async () => {
    const { store, config } = await fleet();
    try {
      const status = await collectStatus(config, store, NOW);
      const states = Object.fromEntries(status.map((s) => [s.id, s.liveness?.state]));
      expect(states).toEqual({
        deafco: "deaf",
        down: "not_open",
        fine: "ok",
        flappy: "flapping",
        locked: "restricted",
      });
      const source = { store, config: () => config, now: () => NOW };
      const views = Object.fromEntries(companyViews(source).map((v) => [v.id, v.liveness.state]));
      expect(views).toEqual(states);
      const metrics = await createFleetMetrics(source).render();
      expect(metrics).toContain('warden_company_liveness{company="down",state="not_open"} 1');
      expect(metrics).toContain('warden_company_liveness{company="deafco",state="deaf"} 1');
    } finally {
      store.close();
    }
  });

  it("deaf, restricted and flapping are recommendations with the command to run, and in the digest", async () => {
    const { store, config } = await fleet();
    try {
      const source = { store, config: () => config, now: () => NOW };
      const report = await healthReport(source, undefined);
      // Without a backups folder every company also gets "no backup": those are not the point here.
      const shown = report.recommendations.filter((r) => !r.text.endsWith(": no backup"));
      // The company that is not open has its connection finding, and no liveness one.
      expect(shown.filter((r) => r.company === "down").map((r) => r.text)).toEqual([
        "down: reconnecting for 2m",
      ]);
      const liveness = shown.filter((r) => r.company !== "down");
      expect(liveness).toEqual([
        {
          company: "deafco",
          severity: "critical",
          text: "deafco: open but deaf: no incoming messages for 2 h 10 min; usual gap at this hour 6 min",
          command: "npm run warden -- reconnect deafco",
        },
        {
          company: "flappy",
          severity: "warning",
          text: "flappy: the connection does not hold (flapping for 20m)",
          command: "npm run warden -- history flappy",
        },
        {
          company: "locked",
          severity: "warning",
          text: "locked: restricted by WhatsApp until 17:00 UTC: reachout timelock; wa-warden does not reconnect or clean for it",
          command: "npm run warden -- status locked",
        },
      ]);
      expect(liveness.some((r) => r.company === "fine" || r.company === "down")).toBe(false);
      const digest = await buildDigest(store, config, undefined, IDS, NOW);
      const text = renderDigestText(digest);
      expect(text).toContain("deafco: open but deaf");
      expect(text).toContain("npm run warden -- reconnect deafco");
      expect(text).toContain("locked: restricted by WhatsApp until 17:00 UTC");
      expect(text).toContain("flappy: the connection does not hold");
      const fine = digest.problems.find((p) => p.company === "fine")?.findings ?? [];
      expect(fine.map((f) => f.about)).toEqual(["backups"]);
    } finally {
      store.close();
    }
  });
});
