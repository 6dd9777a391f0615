import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createScheduler } from "../src/supervisor/scheduler.js";
import { waitFor } from "./helpers/wait-for.js";

describe("the supervisor's scheduler", () => {
  it("runs a series again after each run settled, and nothing after close()", async () => {
    const scheduler = createScheduler();
    let sync = 0;
    let async = 0;
    scheduler.every(
      () => 10,
      () => {
        sync++;
      },
    );
    scheduler.every(
      () => 10,
      async () => {
        async++;
        await sleep(5);
      },
    );
    await waitFor(() => sync > 2 && async > 1, { what: "three sync runs and two async runs" });
    scheduler.close();
    scheduler.close();
    expect(scheduler.closed).toBe(true);
    const [s, a] = [sync, async];
    await sleep(60);
    expect([sync, async]).toEqual([s, a]);
  });

  it("runs a loop at once, waits the delay it returns, and ends on undefined", async () => {
    const scheduler = createScheduler();
    const runs: number[] = [];
    scheduler.loop(async () => {
      runs.push(runs.length);
      return runs.length < 3 ? 5 : undefined;
    });
    expect(runs).toEqual([0]);
    await waitFor(() => runs.length === 3, { what: "three loop runs" });
    await sleep(30);
    expect(runs).toEqual([0, 1, 2]);
    scheduler.close();
    scheduler.loop(async () => {
      runs.push(-1);
      return 5;
    });
    await sleep(20);
    expect(runs).toEqual([0, 1, 2]);
  });

  it("arms nothing after close(): a series whose run ends later stops", async () => {
    const scheduler = createScheduler();
    let runs = 0;
    scheduler.every(
      () => 5,
      async () => {
        runs++;
        await sleep(30);
      },
    );
    await waitFor(() => runs === 1, { intervalMs: 2, what: "the first run started" });
    scheduler.close();
    await sleep(60);
    expect(runs).toBe(1);
  });
});
