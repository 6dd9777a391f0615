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

/** `count` warning alerts of acme for one chat of the "test" channel, numbered m0, m1, … */
export function chatAlerts(count: number, target = "chat-1") {
  return Array.from({ length: count }, (_, i) => ({
    company: "acme",
    kind: "level",
    level: "warning" as const,
    channel: "test",
    target,
    html: `m${i}`,
    text: `m${i}`,
    silent: false,
    payload: {},
  }));
}
