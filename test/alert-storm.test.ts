import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { groupStorm, stormRows } from "../src/alerts/group-alerts.js";
import type { OutboxRow } from "../src/store/outbox.js";
import { BotApiServer } from "./helpers/bot-api-server.js";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { waitFor } from "./helpers/wait-for.js";

const CHAT = "-1001";

function row(id: number, company: string, level: string, createdAt = 1_000): OutboxRow {
  return {
    id,
    createdAt,
    company,
    kind: "level",
    level,
    channel: "telegram",
    target: CHAT,
    silent: level === "monitor",
    html: "",
    text: `${level.toUpperCase()} ${company}: 150 counted files | total 150`,
    payload: {},
    status: "pending",
    attempts: 0,
    nextAttemptAt: createdAt,
    sentAt: null,
    lastError: null,
  };
}

describe("storm grouping (pure)", () => {
  it("groups only more than `above` alerts created within `waitMs` of the oldest", () => {
    const rows = [1, 2, 3, 4, 5].map((i) => row(i, `c${i}`, "warning"));
    expect(stormRows(rows, { above: 5, waitMs: 10_000 }, 2_000)).toEqual([]);
    const six = [...rows, row(6, "c6", "fatal")];
    expect(stormRows(six, { above: 5, waitMs: 10_000 }, 2_000)).toHaveLength(6);
    // A seventh alert from much later is not part of this storm; one waiting for a retry stops it.
    expect(
      stormRows([...six, row(7, "late", "warning", 60_000)], { above: 5, waitMs: 10_000 }, 70_000),
    ).toHaveLength(6);
    const retrying = six.map((r, i) => (i === 3 ? { ...r, nextAttemptAt: 9_999 } : r));
    expect(stormRows(retrying, { above: 2, waitMs: 10_000 }, 2_000)).toHaveLength(3);
  });

  it("lists every company once, counts by level, each part below 4096 characters", () => {
    const rows = Array.from({ length: 1_000 }, (_, i) =>
      row(i + 1, `company-${String(i).padStart(4, "0")}`, i % 3 === 0 ? "fatal" : "warning"),
    );
    const groups = groupStorm(rows);
    expect(groups.length).toBeLessThanOrEqual(8);
    for (const g of groups) expect(g.html.length).toBeLessThanOrEqual(4096);
    expect(groups.flatMap((g) => g.rows.map((r) => r.id))).toEqual(rows.map((r) => r.id));
    const all = groups.map((g) => g.html).join("\n");
    for (const r of rows) expect(all.split(`${r.company}`).length - 1).toBe(1);
    expect(groups[0]?.html).toMatch(
      /^<b>🚨 \d+ alerts \(part 1 of \d+, 1000 in all\): \d+ fatal, \d+ warning<\/b>/,
    );
    expect(groups[0]?.silent).toBe(false);
  });
});

describe("a 1,000-company storm on Telegram", () => {
  let fx: FleetFixture;
  let api: BotApiServer;

  beforeEach(async () => {
    fx = new FleetFixture({
      ...COUNT_EVERY_FILE,
      telegram: { chatIds: [Number(CHAT)] },
      thresholds: { monitor: 2, warning: 3, critical: 4, fatal: 5 },
      alerts: { remindEvery: "1h", hysteresis: 1, groupAbove: 5, groupWait: "10s" },
    });
    for (let i = 0; i < 1_000; i++) {
      const dir = path.join(fx.sessionsDir, `co-${String(i).padStart(4, "0")}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < (i % 2 === 0 ? 3 : 5); f++)
        writeFileSync(path.join(dir, `session-${f}.0.json`), "{}");
    }
    api = new BotApiServer();
    await api.start();
  });

  afterEach(async () => {
    await fx.cleanup();
    await api.stop();
  });

  it("goes out as a few grouped messages; every alert is its own row, marked sent", async () => {
    const { store } = await fx.startSupervisor({ apiRoot: api.apiRoot, watch: false });
    await waitFor(() => store.outbox.list().every((r) => r.status === "sent"), {
      what: "every alert sent",
      timeoutMs: 60_000,
    });
    const rows = store.outbox.list();
    expect(rows).toHaveLength(1_000);
    expect(new Set(rows.map((r) => r.company)).size).toBe(1_000);
    expect(api.messages.length).toBeLessThanOrEqual(10);
    for (const m of api.messages) expect(m.text.length).toBeLessThanOrEqual(4096);
    const all = api.messages.map((m) => m.text).join("\n");
    for (const r of rows) expect(all).toContain(r.company as string);
    expect(all).toContain("fatal");
    expect(all).toContain("warning");
  });
});
