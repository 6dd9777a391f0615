/**
 * The pages in a real headless Chromium (Debian's `chromium`, driven by playwright-core): the
 * dashboard and its filter, a company page with its SVG chart, and the QR page, whose screenshot
 * is decoded back (jsqr) to the QR string the worker stored. Screenshots go to test-output/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import jsqrModule from "jsqr";
import { type Browser, chromium, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { COUNT_EVERY_FILE, FleetFixture } from "./helpers/fleet-fixture.js";
import { CHROMIUM, chromiumMissing, requirePrerequisite } from "./helpers/prerequisite.js";
import { waitFor } from "./helpers/wait-for.js";

const OUT = path.resolve(import.meta.dirname, "..", "test-output");
const TOKEN = "browser-test-token-abcdef0123";
const noChromium = chromiumMissing();

// jsqr is CommonJS typed as `export default`: under nodenext the function may sit on .default.
type JsQr = typeof import("jsqr").default;
const jsQR = ((jsqrModule as unknown as { default?: JsQr }).default ?? jsqrModule) as JsQr;

let browser: Browser;
let fx: FleetFixture;

beforeAll(async () => {
  if (noChromium) return; // each test fails (CI) or skips with the reason: beforeEach
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
});
beforeEach((ctx) => requirePrerequisite(ctx, noChromium));
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await fx?.cleanup();
});

async function serve() {
  fx = new FleetFixture({ ...COUNT_EVERY_FILE, fleet: { probe: null }, scan: { debounce: "50ms" } });
  fx.setFileCount("acme", 100);
  fx.setFileCount("beta", 10);
  fx.setFileCount("gamma", 155);
  const { supervisor, store } = await fx.startSupervisor({ token: null, http: { token: TOKEN } });
  return { store, base: `http://${supervisor.http?.boundAddress}` };
}

/** Decodes the QR in a PNG screenshot; undefined when none is found. */
function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

async function shot(page: Page, name: string): Promise<Buffer> {
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(path.join(OUT, name), png);
  return png;
}

describe("pages in headless Chromium", () => {
  it("the dashboard lists the fleet worst first, filters it, and a company page draws its history chart", async () => {
    const { store, base } = await serve();
    // Two companies with few files that only a person can bring back: logged out, and replaced.
    fx.setFileCount("delta", 5);
    fx.setFileCount("omega", 5);
    await waitFor(
      () => store.companies.get("omega")?.total === 5 && store.companies.get("delta")?.total === 5,
      {
        timeoutMs: 15_000,
        what: "delta and omega scanned",
      },
    );
    const t = (company: string, to: string) =>
      store.connections.transition({ company, to, code: null, message: null, holder: "w0" }, Date.now());
    t("delta", "open");
    t("delta", "qr_required");
    t("omega", "open");
    t("omega", "replaced");
    // Grow acme twice so its history holds three points.
    for (const n of [130, 160]) {
      fx.setFileCount("acme", n);
      await waitFor(() => store.companies.get("acme")?.total === n, {
        timeoutMs: 15_000,
        what: `acme at ${n}`,
      });
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/?token=${TOKEN}`);
    expect(new URL(page.url()).search).toBe(""); // the token left the address bar
    const ids = await page.$$eval("#fleet tbody tr", (rows) =>
      rows.map((r) => r.getAttribute("data-company")),
    );
    // Needs a human first (whatever their file level), then 160 and 155 (warning), then beta.
    expect(ids).toEqual(["delta", "omega", "acme", "gamma", "beta"]);
    const attention = await page.$$eval("#fleet tbody tr", (rows) =>
      rows.map((r) => [r.getAttribute("data-attention"), r.querySelector("td")?.textContent ?? ""]),
    );
    expect(attention[0]).toEqual(["human", expect.stringMatching(/^QR required \(logged out\)/)]);
    expect(attention[1]).toEqual(["human", expect.stringMatching(/^replaced by another session/)]);
    expect(await page.textContent("#fleet thead th")).toBe("needs attention");
    await shot(page, "dashboard.png");

    await page.fill("#filter", "bet");
    const visible = await page.$$eval("#fleet tbody tr", (rows) =>
      rows
        .filter((r) => !(r as unknown as { hidden: boolean }).hidden)
        .map((r) => r.getAttribute("data-company")),
    );
    expect(visible).toEqual(["beta"]);
    expect(await page.textContent("#shown")).toBe("1");
    // The page refreshes its own rows (every 10 s) and keeps the filter applied.
    fx.setFileCount("beta", 125);
    await waitFor(() => store.companies.get("beta")?.total === 125, {
      timeoutMs: 15_000,
      what: "beta at 125",
    });
    await page.waitForFunction(
      `document.querySelector('#fleet tbody tr[data-company="beta"]')?.getAttribute("data-level") === "monitor"`,
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent("#shown")).toBe("1");
    await page.fill("#filter", "");

    await page.click('a[href="/companies/acme"]');
    await page.waitForSelector("svg#history-chart");
    const series = await page.$$eval("svg#history-chart polyline.series", (lines) =>
      lines.map((l) => ({
        name: l.getAttribute("data-series"),
        points: (l.getAttribute("points") ?? "").trim().split(/\s+/).length,
        width: (l as unknown as { getBBox(): { width: number } }).getBBox().width,
      })),
    );
    expect(series.map((s) => s.name)).toEqual(["total", "live", "stale", "counted"]);
    for (const s of series) {
      expect(s.points).toBeGreaterThanOrEqual(5); // 3 points as steps, extended to now
      expect(s.width).toBeGreaterThan(10); // actually laid out by the browser
    }
    // Minutes of history: the page says a trend needs more, rather than a date in seconds.
    expect(await page.textContent("#projection")).toContain("a trend needs 1 day");
    await shot(page, "company-acme.png");
    await context.close();
  });

  it("the QR page shows a scannable QR of the stored string, follows its rotation, then says connected", async () => {
    const { store, base } = await serve();
    const qr1 =
      "2@Xk3b9Qm1Zp8RtY6uVw2sE4dF7gH0jK5lN9oP3qR6sT8uV1wX4yZ7aB0cD3eF6gH9iJ,8u6GZcJ0yRkXJtq0m3s1Yc2v5m9wQ4b7N8p0L2k6H1c=,Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8=,c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
    store.connections.putQr("beta", qr1, Date.now());
    const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
    const page = await context.newPage();
    await page.goto(`${base}/companies/beta/qr?token=${TOKEN}`);
    await page.waitForSelector('#qr-code[data-state="qr"] svg');
    expect(decodeQr(await shot(page, "qr-beta.png"))).toBe(qr1);

    // WhatsApp rotates the QR: the page swaps it without a reload.
    const qr2 = qr1.replace("2@Xk3b", "2@Rot8");
    store.connections.putQr("beta", qr2, Date.now());
    await waitFor(async () => decodeQr(await page.screenshot()) === qr2, {
      timeoutMs: 15_000,
      what: "the rotated QR on the page",
    });
    await shot(page, "qr-beta-rotated.png");

    // Paired: the worker's transition to open clears the pairing; the page says connected.
    store.connections.transition(
      { company: "beta", to: "open", code: null, message: null, holder: "w0" },
      Date.now(),
    );
    await page.waitForSelector('#qr-code[data-state="connected"]', { timeout: 15_000 });
    expect(await page.textContent("#qr-code")).toContain("Connected");
    await shot(page, "qr-beta-connected.png");
    await context.close();
  });

  it("the QR page without the token shows no QR", async () => {
    const { store, base } = await serve();
    store.connections.putQr("beta", "2@secret-qr,a,b,c", Date.now());
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${base}/companies/beta/qr`);
    expect(res?.status()).toBe(401);
    expect(await page.content()).not.toContain("svg");
    await context.close();
  });
});
