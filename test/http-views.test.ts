import { describe, expect, it } from "vitest";
import { createAuth, readCookie } from "../src/http/auth.js";
import { renderChart } from "../src/http/views/chart.js";
import { escapeHtml } from "../src/http/views/html.js";
import { renderQrFragment } from "../src/http/views/qr-page.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 30, 12);

describe("renderChart", () => {
  it("draws each series as a step line extended to now, thresholds in range, escaped names", () => {
    const svg = renderChart(
      [
        {
          name: "total<x>",
          color: "#888",
          points: [
            { at: NOW - 2 * DAY, value: 10 },
            { at: NOW - DAY, value: 30 },
          ],
        },
      ],
      [
        { name: "monitor", value: 40 },
        { name: "fatal", value: 500 },
      ],
      NOW - 3 * DAY,
      NOW,
    );
    expect(svg.startsWith('<svg id="history-chart"')).toBe(true);
    const points = /points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    expect(points).toHaveLength(4); // first point, step, second point, extended to now
    expect(svg).toContain("total&lt;x&gt;");
    expect(svg).toContain("monitor 40");
    expect(svg).not.toContain("fatal 500"); // far above the data: not drawn
  });

  it("says so when there is no history", () => {
    expect(renderChart([], [], NOW - DAY, NOW)).toContain("no history yet");
  });
});

describe("auth", () => {
  it("accepts Bearer, a live session cookie, and ?token= (as 'query'); sessions are random, hashed, expire", () => {
    const kept = new Map<string, number>();
    const sessions = {
      add: (hash: string, _now: number, expiresAt: number) => void kept.set(hash, expiresAt),
      valid: (hash: string, now: number) => (kept.get(hash) ?? 0) > now,
    };
    let now = 1_000_000;
    const options = { sessions, sessionTtl: () => 12 * 3_600_000, now: () => now };
    const auth = createAuth({ token: "s3cret-token", ...options });
    const cookie = auth.startSession(false);
    expect(cookie).not.toContain("s3cret-token");
    expect(cookie).toContain("Max-Age=43200; HttpOnly; SameSite=Strict");
    expect(cookie).not.toContain("Secure");
    const second = auth.startSession(true);
    expect(second).toContain("; Secure");
    const value = cookie.split(";")[0] as string;
    expect(second.split(";")[0]).not.toBe(value); // random, not a hash of the token
    expect([...kept.keys()]).not.toContain(value.split("=")[1]); // only its hash is stored
    expect(auth.check({ headers: { authorization: "Bearer s3cret-token" }, query: {} })).toBe("ok");
    expect(auth.check({ headers: { cookie: `a=b; ${value}` }, query: {} })).toBe("ok");
    expect(auth.check({ headers: {}, query: { token: "s3cret-token" } })).toBe("query");
    expect(auth.check({ headers: { authorization: "Bearer nope" }, query: { token: "s3cret-token" } })).toBe(
      "denied",
    );
    expect(auth.check({ headers: { cookie: "warden_session=forged" }, query: {} })).toBe("denied");
    // A new token ends every session; so does sessionTtl.
    expect(createAuth({ token: "other", ...options }).check({ headers: { cookie: value }, query: {} })).toBe(
      "denied",
    );
    now += 12 * 3_600_000;
    expect(auth.check({ headers: { cookie: value }, query: {} })).toBe("denied");
    expect(
      createAuth({ token: undefined, ...options }).check({
        headers: { authorization: "Bearer x" },
        query: {},
      }),
    ).toBe("no-token");
    expect(readCookie(["x=1", "warden_session=abc"], "warden_session")).toBe("abc");
    expect(escapeHtml(`<a href="x">'&`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
  });
});

describe("QR fragment", () => {
  it("shows the QR as SVG, else the pairing code, else connected, else how to ask for one", async () => {
    const qr = await renderQrFragment("acme", "connecting", {
      qr: "2@abc,def",
      qrAt: 1,
      pairingCode: null,
      codeAt: null,
    });
    expect(qr).toContain('data-state="qr"');
    expect(qr).toContain("<svg");
    const code = await renderQrFragment("acme", "connecting", {
      qr: null,
      qrAt: null,
      pairingCode: "ABCD-1234",
      codeAt: 1,
    });
    expect(code).toContain('data-state="code"');
    expect(code).toContain("ABCD-1234");
    expect(await renderQrFragment("acme", "open", undefined)).toContain("Connected.");
    expect(await renderQrFragment("a<b", "close", undefined)).toContain("npm run warden -- pair a&lt;b");
  });
});
