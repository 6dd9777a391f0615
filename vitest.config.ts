import { defineConfig } from "vitest/config";

/**
 * libsignal writes straight to the console (stack traces per Bad MAC, whole session objects with
 * their keys on every close). Tests that drive real sessions outside the worker's console guard
 * would fill the log with them; they are dropped unless WARDEN_TEST_VERBOSE=1. What the product
 * does with these lines is the guard's job (src/signals/console-guard.ts) and tested there.
 */
const LIBSIGNAL_LINES =
  /^(Failed to decrypt message with any known session|Session error:|Closing session:|Opening session:|Removing old closed session:|Migrating session to:|Closing open session in favor|Closing stale open session|Decrypted message with closed session|Session already (closed|open)|V1 session storage migration error)/;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Compiles src into dist/ once: the tests' child processes run JS, not tsx (test/global-build.ts).
    globalSetup: ["test/global-build.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // vitest's default on 2 cores is 1 (cores - 1): the files would run one after another, though
    // most of their time is spent waiting on child processes, sockets and timers.
    maxWorkers: 2,
    onConsoleLog(log) {
      if (process.env.WARDEN_TEST_VERBOSE !== "1" && LIBSIGNAL_LINES.test(log)) return false;
    },
  },
});
