/** Outbox rows for tests. */

/** An alert row for a Telegram chat, which waits in the outbox while no Telegram notifier runs. */
export function telegramAlert(company: string) {
  return {
    company,
    kind: "test",
    level: null,
    channel: "telegram",
    target: "-1001",
    silent: false,
    html: "waiting",
    text: "waiting",
    payload: {},
  };
}
