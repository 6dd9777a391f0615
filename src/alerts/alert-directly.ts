/**
 * Sends one notice straight through the notifiers, bypassing the outbox: for the failures where
 * the outbox itself cannot be written (warden.db deleted, disk full). Best effort, bounded in time:
 * every notifier is tried, each send is aborted after `timeoutMs`; the log notifier always works.
 */
import { describeError } from "../errors.js";
import type { Notifier } from "./notifiers/notifier.js";

/** Tries every notifier (telegram to each chat, log once); resolves with the channels that failed. */
export async function alertDirectly(
  notifiers: ReadonlyMap<string, Notifier>,
  chatIds: readonly string[],
  title: string,
  detail: string,
  timeoutMs = 5_000,
): Promise<string[]> {
  const failed: string[] = [];
  const text = `${title}\n${detail}`;
  const html = `<b>${escapeHtml(title)}</b>\n${escapeHtml(detail)}`;
  const sends: Promise<unknown>[] = [];
  for (const [name, notifier] of notifiers) {
    const targets = name === "telegram" ? chatIds : ["log"];
    for (const target of targets) {
      sends.push(
        notifier
          .send(
            { target, html, text, silent: false, payload: { kind: "direct" } },
            AbortSignal.timeout(timeoutMs),
          )
          .catch((err) => {
            failed.push(`${name}:${target}: ${describeError(err)}`);
          }),
      );
    }
  }
  await Promise.all(sends);
  return failed;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
