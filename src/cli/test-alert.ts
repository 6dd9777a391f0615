/**
 * `warden test-alert [--json]`: one test message to every configured Telegram chat, sent now
 * (not through the outbox), with the result per chat. Exit 1 when a chat could not be reached.
 */
import os from "node:os";
import { createTelegramNotifier } from "../alerts/notifiers/telegram.js";
import { loadConfig } from "../config/load.js";
import type { WardenEnv } from "../env-shape.js";
import { describeError, ExitCodes } from "../errors.js";
import type { CommandSpec } from "./command.js";
import { configuredChats } from "./doctor-checks.js";

/** The result for one chat. */
export interface TestAlertResult {
  chat: string;
  ok: boolean;
  error?: string;
}

/** Sends the test message; resolves with the exit status. */
export async function testAlertCommand(env: WardenEnv, options: { json: boolean }): Promise<number> {
  const config = loadConfig(env.configFile);
  if (!env.telegramToken) {
    process.stderr.write(
      "warden: TELEGRAM_BOT_TOKEN is not set: there is no chat to test (alerts go to the supervisor's log)\n",
    );
    return ExitCodes.FAILURE;
  }
  const chats = configuredChats(config);
  if (chats.length === 0) {
    process.stderr.write(
      `warden: telegram.chatIds is empty in ${config.file} (and in every company override)\n`,
    );
    return ExitCodes.FAILURE;
  }
  const notifier = createTelegramNotifier({
    token: env.telegramToken,
    apiRoot: env.telegramApiRoot,
    timeoutMs: 10_000,
  });
  const text = `wa-warden test alert from ${os.hostname()} at ${new Date().toISOString()}: this chat receives the fleet's alerts.`;
  const results: TestAlertResult[] = [];
  for (const chat of chats) {
    try {
      await notifier.send({
        target: chat,
        html: `✅ ${text}`,
        text,
        silent: false,
        payload: { kind: "test-alert" },
      });
      results.push({ chat, ok: true });
    } catch (err) {
      results.push({ chat, ok: false, error: describeError(err) });
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
  else
    for (const r of results)
      process.stdout.write(`${r.ok ? "sent  " : "FAILED"}  ${r.chat}${r.error ? `  ${r.error}` : ""}\n`);
  return results.every((r) => r.ok) ? ExitCodes.OK : ExitCodes.FAILURE;
}

/** `warden test-alert [--json]`. */
export const testAlertCommandSpec: CommandSpec = {
  name: "test-alert",
  summary: "send one test message to every configured Telegram chat, with the result per chat",
  args: { min: 0, max: 0 },
  run: (ctx) => testAlertCommand(ctx.env, { json: ctx.json }),
};
