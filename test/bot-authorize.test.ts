import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alertButtonActions } from "../src/alerts/alert-buttons.js";
import { alertChats, chatScope } from "../src/alerts/chat-routing.js";
import { mayCommand, mayUseBot } from "../src/bot/authorize.js";
import { splitMessage } from "../src/bot/reply.js";
import { loadConfig } from "../src/config/load.js";

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function config(global: Record<string, unknown>, companies: Record<string, Record<string, unknown>> = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), "warden-auth-"));
  roots.push(root);
  mkdirSync(path.join(root, "companies"));
  writeFileSync(path.join(root, "warden.json"), JSON.stringify(global));
  for (const [id, override] of Object.entries(companies))
    writeFileSync(path.join(root, "companies", `${id}.json`), JSON.stringify(override));
  return loadConfig(path.join(root, "warden.json"));
}

const none = new Map<string, string>();

describe("authorization (pure)", () => {
  const c = config(
    { telegram: { chatIds: [-1], admins: [42] } },
    { bistro: { telegram: { chatIds: [-2], operators: [77] } }, cafe: { telegram: { operators: [88] } } },
  );

  it("empty lists allow nobody", () => {
    const empty = config({});
    expect(mayUseBot(empty, chatScope(empty, "-1", none), 42)).toBe(false);
    expect(mayCommand(empty, chatScope(empty, "-1", none), 42, "acme")).toBe(false);
  });

  it("a global chat sees the fleet; a company chat sees its company only", () => {
    expect(chatScope(c, "-1", none)).toEqual({ fleet: true });
    expect(chatScope(c, "-2", none)).toEqual({ fleet: false, companies: new Set(["bistro"]) });
    expect(chatScope(c, "-3", none)).toEqual({ fleet: false, companies: new Set() });
  });

  it("both the chat and the user must be allowed", () => {
    expect(mayCommand(c, chatScope(c, "-1", none), 42, "acme")).toBe(true);
    expect(mayCommand(c, chatScope(c, "-2", none), 42, "acme")).toBe(false);
    expect(mayCommand(c, chatScope(c, "-2", none), 42, "bistro")).toBe(true);
    expect(mayCommand(c, chatScope(c, "-3", none), 42, "bistro")).toBe(false);
    expect(mayCommand(c, chatScope(c, "-1", none), 77, "bistro")).toBe(true);
    expect(mayCommand(c, chatScope(c, "-1", none), 77, "cafe")).toBe(false);
    expect(mayCommand(c, chatScope(c, "-2", none), 88, "cafe")).toBe(false);
    expect(mayUseBot(c, chatScope(c, "-2", none), 88)).toBe(false);
    expect(mayUseBot(c, chatScope(c, "-1", none), 88)).toBe(true);
    expect(mayUseBot(c, chatScope(c, "-1", none), 5)).toBe(false);
  });

  it("a supergroup's new id counts as the group written in the config, both ways", () => {
    const moved = new Map([["-2", "-1002"]]);
    expect(chatScope(c, "-1002", moved)).toEqual({ fleet: false, companies: new Set(["bistro"]) });
    expect(alertChats(c, "bistro", moved)).toEqual(["-1", "-1002"]);
    expect(alertChats(c, null, moved)).toEqual(["-1"]);
  });
});

describe("alert buttons and long answers", () => {
  it("gives each alert the buttons that fit it", () => {
    expect(alertButtonActions("level", "monitor")).toEqual(["status", "mute1h"]);
    expect(alertButtonActions("reminder", "fatal")).toEqual(["status", "mute1h", "cleanup"]);
    expect(alertButtonActions("connection-qr_required", null)).toEqual(["status", "mute1h", "qr"]);
    expect(alertButtonActions("ladder-down", "warning")).toEqual(["status", "mute1h", "reconnect"]);
    expect(alertButtonActions("resolved", "ok")).toEqual(["status"]);
  });

  it("splits answers below 4096 characters at line breaks", () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(40)}`);
    const parts = splitMessage(lines.join("\n"));
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096);
    expect(parts.join("\n")).toBe(lines.join("\n"));
    expect(splitMessage("y".repeat(9000)).map((p) => p.length)).toEqual([4096, 4096, 808]);
  });
});
