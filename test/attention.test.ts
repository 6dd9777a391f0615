/**
 * What needs attention now: a logged-out or replaced company with few files is not "ok", and the
 * fleet (dashboard and `warden status`) lists the companies that need a person first.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { attentionOf, companyAttention, connectionProblem, signalsProblem } from "../src/alerts/attention.js";
import { collectStatus, renderStatusTable } from "../src/cli/status.js";
import { loadConfig } from "../src/config/load.js";
import { scanFolder } from "../src/fleet/scan-folder.js";
import { companyViews, worstFirst } from "../src/http/fleet-view.js";
import { renderCompanyPage } from "../src/http/views/company-page.js";
import { renderFleetPage } from "../src/http/views/fleet-page.js";
import { openStore } from "../src/store/store.js";
import { createCompanyFolder } from "./helpers/baileys-folder.js";
import { tempDir } from "./helpers/temp-dir.js";

const NOW = Date.UTC(2026, 11, 2, 12);
const MIN = 60_000;
const settings = { ladder: { warnAfter: 10 * MIN }, signals: { alertAt: { count: 20, window: 10 * MIN } } };

describe("attention", () => {
  it("a QR-required company with no files needs a human; the worst problem is the summary", () => {
    const a = companyAttention(
      {
        connection: { state: "qr_required", since: NOW - 5 * MIN, downSince: NOW - 6 * MIN },
        creds: "ok",
        level: "warning",
        counted: 160,
        decryptFailures: 3,
        settings,
      },
      NOW,
    );
    expect(a.severity).toBe("human");
    expect(a.summary).toBe("QR required (logged out) for 6m");
    expect(a.problems.map((p) => p.source)).toEqual(["connection", "files", "signals"]);
  });

  it("a short reconnect or our own brief hold is not a disconnection; warnAfter later it is", () => {
    const reconnecting = { state: "connecting", since: NOW - 139, downSince: NOW - 139 };
    expect(connectionProblem(reconnecting, NOW, 10 * MIN)).toBeNull();
    expect(
      connectionProblem({ state: "stopped", since: NOW - 755, downSince: NOW - 755 }, NOW, 10 * MIN),
    ).toBeNull();
    expect(connectionProblem({ ...reconnecting, downSince: NOW - 11 * MIN }, NOW, 10 * MIN)).toMatchObject({
      severity: "warning",
      text: "disconnected (connecting) for 11m",
    });
  });

  it("a decrypt-failure storm is critical; liveness or any other source joins as one more problem", () => {
    expect(signalsProblem(25, settings.signals.alertAt)?.severity).toBe("critical");
    const a = attentionOf([null, { source: "liveness", severity: "warning", text: "deaf for 2h" }]);
    expect(a).toMatchObject({ severity: "warning", summary: "deaf for 2h" });
    expect(attentionOf([null, undefined])).toEqual({ severity: "ok", problems: [], summary: "ok" });
  });

  it("warden status and the dashboard list QR-required and replaced companies first, not as ok", async () => {
    const root = tempDir();
    const sessionsDir = path.join(root, "sessions");
    const configFile = path.join(root, "config", "warden.json");
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, JSON.stringify({ sessionsDir }));
    for (const id of ["aaa-healthy", "bbb-healthy", "qr-shop", "zz-replaced"])
      await createCompanyFolder(path.join(sessionsDir, id), { preKeys: 2 });
    const config = loadConfig(configFile);
    const store = openStore(path.join(root, "warden.db"));
    try {
      const t = (company: string, to: string, at: number) =>
        store.connections.transition({ company, to, code: null, message: null, holder: "w0" }, at);
      t("aaa-healthy", "open", NOW - 60 * MIN);
      t("bbb-healthy", "open", NOW - 60 * MIN);
      t("qr-shop", "open", NOW - 60 * MIN);
      t("qr-shop", "qr_required", NOW - 2 * MIN);
      t("zz-replaced", "open", NOW - 60 * MIN);
      t("zz-replaced", "replaced", NOW - MIN);

      const rows = await collectStatus(config, store, NOW);
      expect(rows.map((r) => r.id)).toEqual(["qr-shop", "zz-replaced", "aaa-healthy", "bbb-healthy"]);
      expect(rows.map((r) => r.attention.severity)).toEqual(["human", "human", "ok", "ok"]);
      const table = renderStatusTable(rows, NOW, false).split("\n");
      expect(table[0]).toMatch(/^ATTENTION\s+COMPANY/);
      expect(table[1]).toMatch(/^human: QR required \(logged out\) for 2m\s+qr-shop/);

      // The dashboard reads the companies table the supervisor keeps; fill it from a scan.
      for (const r of rows)
        store.companies.save(await scanFolder(path.join(sessionsDir, r.id), r.id, NOW, new Map()), 2);
      const views = companyViews({ store, config: () => config, now: () => NOW }).sort(worstFirst);
      expect(views.map((v) => [v.id, v.attention.severity])).toEqual([
        ["qr-shop", "human"],
        ["zz-replaced", "human"],
        ["aaa-healthy", "ok"],
        ["bbb-healthy", "ok"],
      ]);
      // The company page: the problems and the signal health of the last 10 minutes.
      const qr = views[0];
      if (!qr) throw new Error("no view");
      const page = renderCompanyPage({
        company: qr,
        history: [],
        historyFrom: NOW - 86_400_000,
        thresholds: config.defaults.thresholds,
        projection: { kind: "none", reason: "too-short-span", why: "a trend needs 1 day" },
        signals: {
          decryptFailures10m: 12,
          byReason: { "Bad MAC": 12 },
          sessionChurn10m: 0,
          retryReceipts10m: 12,
        },
        transitions: [],
        steps: [],
        audit: [],
        now: NOW,
      });
      expect(page).toMatch(
        /<ul id="attention"><li class="attention-human">human: QR required \(logged out\)/,
      );
      expect(page).toContain(
        '<p id="signals">12 decrypt failures (Bad MAC 12), 0 session closes, 12 retry receipts</p>',
      );
      const html = renderFleetPage(views, NOW);
      expect(html).toContain("<th>needs attention</th><th>company</th>");
      expect(html).toMatch(
        /data-company="zz-replaced"[^>]*data-attention="human">\n<td[^>]*>replaced by another session for 1m/,
      );
    } finally {
      store.close();
    }
  });
});
