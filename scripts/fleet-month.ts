/**
 * A simulated fleet month (issue 8): the pure ladder (decide) and the pure planners (planCleanup,
 * planReset, countSnapshot's rules) driven by a fake clock over a Baileys v7 growth model, for
 * `test/fleet-month.test.ts` and `npm run bench:month`. No I/O: every company folder is a map of
 * file name -> mtime.
 *
 * The v7 model (rc14 facts, ../shared/baileys-v7-facts.md):
 * - a pairing holds 812 pre-keys; each new contact uses one (libsignal deletes it); Baileys uploads
 *   5 more when 5 or fewer are left;
 * - a new contact brings 8 live files (2 sessions under its LID, 2 identity keys, a PN and a reverse
 *   lid-mapping, a device list, a tctoken); an active contact touches its sessions and tctoken,
 *   then goes quiet after a random lifetime (its sessions turn stale after sessionMaxAge);
 * - groups: our own sender key and sender-key memory (touched when we send), members' sender keys
 *   (touched when they send);
 * - our own phone's sessions and identity keys (never to be deleted);
 * - disconnects at realistic rates: 428 and 408 (mostly short, some long), 503 (WhatsApp side),
 *   500 (badSession: repeats until the key state is repaired), 401 (logged out: QR), 440 (replaced).
 */
import { cleanupRulesFor } from "../src/actions/count-stale.js";
import { type CleanupFile, planCleanup } from "../src/actions/plan-cleanup.js";
import { planReset } from "../src/actions/plan-reset.js";
import { levelFor } from "../src/alerts/evaluate-thresholds.js";
import { type CompanySettings, companyDefaultsSchema } from "../src/config/schema.js";
import { classifyFile } from "../src/fleet/classify-file.js";
import { fileUser } from "../src/fleet/file-user.js";
import { resolvePreKeyReserve } from "../src/fleet/prekey-reserve.js";
import { AGE_RULED_CATEGORIES } from "../src/fleet/scan-folder.js";
import { decide, EMPTY_MEMORY, type LadderMemory } from "../src/ladder/decide.js";
import { hasKeyStateEvidence, type KeyStateEvidence } from "../src/ladder/key-state-evidence.js";
import { prng } from "../test/helpers/crash-trial.js";

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const ME = "5511987654321";
const ME_LID = "99887766554433";

/** How big a month to simulate. */
export interface MonthOptions {
  companies: number;
  days: number;
  seed?: number;
  /** Ladder check period (fake clock). Default 5 min. */
  tickMs?: number;
}

/** What the month did, for the assertions and the bench. */
export interface MonthReport {
  companies: number;
  days: number;
  checks: number;
  disconnects: Record<number, number>;
  resets: number;
  resetsWithoutEvidence: number;
  stops: number;
  stopsBelowMinCleanupFiles: number;
  smallestStopDeleted: number | null;
  cleanupsWhileDown: number;
  filesDeleted: number;
  ownFilesDeleted: number;
  /** Files a smart cleanup deleted younger than cleanup.minAge (must stay 0). */
  youngFilesDeleted: number;
  loggedOut: number;
  loggedOutWithQr: number;
  qrRequired: number;
  alerts: Record<string, number>;
  maxStale: number;
  maxStaleCompany: string;
  /** Largest stale count after the first day (the fleet starts with 60 days of history uncleaned). */
  maxStaleSteady: number;
  maxTotal: number;
  finalStale: { p50: number; p95: number; max: number };
  /** Start of the simulated month (fake clock). */
  startedAt: number;
  finalLevels: Record<string, number>;
  ms: number;
}

interface Contact {
  lid: string;
  pn: string;
  activeUntil: number;
}

interface Outage {
  code: number;
  since: number;
  /** When it ends by itself (transient), or null: it needs the ladder (500) or a human (401, 440). */
  endsAt: number | null;
}

interface Company {
  id: string;
  settings: CompanySettings;
  files: Map<string, number>;
  contacts: Contact[];
  groups: { id: string; members: string[] }[];
  nextPreKeyId: number;
  /** Contacts ever met (their numbers). */
  met: number;
  newContactsPerDay: number;
  outage: Outage | null;
  memory: LadderMemory;
  /** Company-level figures kept between hourly counts. */
  counted: number;
  stale: number;
  heldByMinAge: number;
  heldUntil: number | null;
  pendingQrUntil: number | null;
  loggedOut: boolean;
}

/** Runs the month; pure apart from the wall-clock time it reports. */
export function simulateFleetMonth(options: MonthOptions): MonthReport {
  const started = performance.now();
  const rand = prng(options.seed ?? 8);
  const tick = options.tickMs ?? 5 * MIN;
  const T0 = Date.UTC(2026, 10, 1, 0, 0);
  const end = T0 + options.days * DAY;
  const base = companyDefaultsSchema.parse({});
  const report: MonthReport = {
    companies: options.companies,
    days: options.days,
    checks: 0,
    disconnects: {},
    resets: 0,
    resetsWithoutEvidence: 0,
    stops: 0,
    stopsBelowMinCleanupFiles: 0,
    smallestStopDeleted: null,
    cleanupsWhileDown: 0,
    filesDeleted: 0,
    ownFilesDeleted: 0,
    youngFilesDeleted: 0,
    loggedOut: 0,
    loggedOutWithQr: 0,
    qrRequired: 0,
    alerts: {},
    maxStale: 0,
    maxStaleCompany: "",
    maxStaleSteady: 0,
    maxTotal: 0,
    finalStale: { p50: 0, p95: 0, max: 0 },
    startedAt: T0,
    finalLevels: {},
    ms: 0,
  };

  const companies: Company[] = [];
  for (let c = 0; c < options.companies; c++) {
    // One company in ten keeps the old counting rule: its levels cannot always be cleaned away.
    const basis = c % 10 === 9 ? "counted" : "stale";
    const settings: CompanySettings = { ...base, count: { basis } };
    const company: Company = {
      id: `co-${String(c).padStart(3, "0")}`,
      settings,
      files: new Map(),
      contacts: [],
      groups: [],
      nextPreKeyId: 1,
      met: 0,
      newContactsPerDay: 0.5 + rand() * 12,
      outage: null,
      memory: EMPTY_MEMORY,
      counted: 0,
      stale: 0,
      heldByMinAge: 0,
      heldUntil: null,
      pendingQrUntil: null,
      loggedOut: false,
    };
    pair(company, T0 - Math.floor(rand() * 60) * DAY, rand);
    // History before the month: contacts met over the last 60 days, some long quiet.
    const history = Math.floor(company.newContactsPerDay * 20 * rand());
    for (let i = 0; i < history; i++) newContact(company, T0 - Math.floor(rand() * 60 * DAY), rand);
    companies.push(company);
  }

  for (let now = T0; now < end; now += tick) {
    const hourly = (now - T0) % H === 0;
    for (const co of companies) {
      if (hourly) grow(co, now, rand);
      connectivity(co, now, rand, report);
      if (hourly) recount(co, now, report);
      report.checks++;
      const decision = decide(
        {
          company: co.id,
          state: stateOf(co),
          code: co.outage?.code ?? null,
          downSince: co.outage?.since ?? null,
          desired: "run",
          counted: co.counted,
          files: {
            total: co.files.size,
            stale: co.stale,
            heldByMinAge: co.heldByMinAge,
            heldUntil: co.heldUntil,
          },
          evidence: evidenceOf(co, now),
          codesSeen: co.outage ? [{ code: co.outage.code, n: 1 }] : [],
          settings: co.settings,
          fleetOffline: false,
          memory: co.memory,
        },
        now,
      );
      co.memory = decision.memory;
      for (const { action } of decision.actions) {
        if (action.kind === "alert") report.alerts[action.topic] = (report.alerts[action.topic] ?? 0) + 1;
        else if (action.kind === "qr_required") {
          report.qrRequired++;
          if (co.loggedOut) report.loggedOutWithQr++;
          co.pendingQrUntil = now + 12 * H; // an operator re-pairs within half a day
        } else if (action.kind === "cleanup") {
          runCleanup(co, action.mode, action.why, now, rand, report);
        }
      }
    }
  }

  const finals = companies.map((co) => co.stale).sort((a, b) => a - b);
  report.finalStale = {
    p50: finals[Math.floor(finals.length / 2)] ?? 0,
    p95: finals[Math.min(finals.length - 1, Math.floor(finals.length * 0.95))] ?? 0,
    max: finals.at(-1) ?? 0,
  };
  for (const co of companies) {
    const level = levelFor(co.counted, co.settings.thresholds);
    report.finalLevels[level] = (report.finalLevels[level] ?? 0) + 1;
  }
  report.ms = performance.now() - started;
  return report;
}

function stateOf(co: Company): string {
  if (!co.outage) return "open";
  if (co.outage.code === 401) return "qr_required"; // the worker stops on 401 (disconnect policy)
  if (co.outage.code === 440) return "replaced";
  return "reconnecting";
}

/** A 500 outage repeats a badSession close on every reconnect of the worker (about one a minute). */
function evidenceOf(co: Company, now: number): KeyStateEvidence {
  if (co.outage?.code !== 500) return { badSessionCloses: 0, decryptStorm: null };
  return { badSessionCloses: 1 + Math.floor((now - co.outage.since) / MIN), decryptStorm: null };
}

/** A fresh pairing: creds, app-state, 812 pre-keys, our own phone's session. */
function pair(co: Company, at: number, rand: () => number): void {
  co.files.clear();
  co.contacts = [];
  co.files.set("creds.json", at);
  for (let i = 0; i < 5; i++) co.files.set(`app-state-sync-key-AAAAA${i}.json`, at);
  for (const n of ["critical_block", "critical_unblock_low", "regular", "regular_high", "regular_low"])
    co.files.set(`app-state-sync-version-${n}.json`, at);
  for (let i = 0; i < 812; i++) co.files.set(`pre-key-${co.nextPreKeyId++}.json`, at);
  co.files.set(`session-${ME}.0.json`, at);
  co.files.set(`session-${ME_LID}_1.0.json`, at);
  co.files.set(`identity-key-${ME}.0.json`, at);
  co.files.set(`device-list-${ME}.json`, at);
  const groups = Math.floor(rand() * 12);
  co.groups = Array.from({ length: groups }, (_, g) => ({
    id: `1203630${co.id.slice(3)}${String(g).padStart(6, "0")}@g.us`,
    members: Array.from({ length: 3 + Math.floor(rand() * 20) }, (_, m) =>
      String(310000000000000 + g * 100 + m),
    ),
  }));
}

function newContact(co: Company, at: number, rand: () => number): void {
  // libsignal deletes the pre-key the contact's first message used; the server hands out the oldest.
  const preKey = lowestPreKey(co);
  if (preKey !== undefined) co.files.delete(preKey);
  const n = co.met++;
  const lid = String(200000000000000 + n);
  const pn = String(5511900000000 + n);
  for (const f of [
    `session-${lid}_1.0.json`,
    `session-${lid}_1.1.json`,
    `identity-key-${lid}_1.0.json`,
    `identity-key-${lid}_1.1.json`,
    `lid-mapping-${pn}.json`,
    `lid-mapping-${lid}_reverse.json`,
    `device-list-${pn}.json`,
    `tctoken-${lid}@lid.json`,
  ])
    co.files.set(f, at);
  co.contacts.push({ lid, pn, activeUntil: at + Math.floor(-Math.log(1 - rand()) * 12 * DAY) });
  // Baileys uploads 5 more when the server holds 5 or fewer.
  if (countPreKeys(co) <= 5)
    for (let i = 0; i < 5; i++) co.files.set(`pre-key-${co.nextPreKeyId++}.json`, at);
}

function lowestPreKey(co: Company): string | undefined {
  let best: number | undefined;
  for (const name of co.files.keys()) {
    if (!name.startsWith("pre-key-")) continue;
    const id = Number(name.slice(8, -5));
    if (best === undefined || id < best) best = id;
  }
  return best === undefined ? undefined : `pre-key-${best}.json`;
}

function countPreKeys(co: Company): number {
  let n = 0;
  for (const name of co.files.keys()) if (name.startsWith("pre-key-")) n++;
  return n;
}

/** One hour of a business: new contacts, messages from active ones, group traffic. */
function grow(co: Company, now: number, rand: () => number): void {
  if (co.outage) return; // nothing flows while disconnected
  const hour = new Date(now).getUTCHours();
  const busy = hour >= 8 && hour < 20 ? 2 : 0.2;
  if (rand() < (co.newContactsPerDay / 24) * busy) newContact(co, now, rand);
  for (const c of co.contacts) {
    if (c.activeUntil < now || rand() > 0.02 * busy) continue;
    co.files.set(`session-${c.lid}_1.0.json`, now);
    if (rand() < 0.5) co.files.set(`session-${c.lid}_1.1.json`, now);
    co.files.set(`tctoken-${c.lid}@lid.json`, now);
  }
  if (rand() < 0.05) co.files.set(`session-${ME}.0.json`, now);
  for (const g of co.groups) {
    if (rand() > 0.02 * busy) continue;
    if (rand() < 0.5) {
      co.files.set(`sender-key-${g.id}--${ME}--0.json`, now);
      co.files.set(`sender-key-memory-${g.id}.json`, now);
    }
    const member = g.members[Math.floor(rand() * g.members.length)] as string;
    co.files.set(`sender-key-${g.id}--${member}_1--0.json`, now);
  }
}

/** Disconnects at realistic rates; transient ones end by themselves. */
function connectivity(co: Company, now: number, rand: () => number, report: MonthReport): void {
  const o = co.outage;
  if (o) {
    if (o.endsAt !== null && now >= o.endsAt) endOutage(co);
    else if (o.code === 401 && co.pendingQrUntil !== null && now >= co.pendingQrUntil) {
      pair(co, now, rand); // the operator scanned the QR: a fresh pairing
      endOutage(co);
      recount(co, now, report); // the supervisor recounts on the folder's events
    } else if (o.code === 440 && now - o.since >= 2 * H) endOutage(co); // the other client was closed
    return;
  }
  // About one disconnect per company every 4 days.
  if (rand() > (5 * MIN) / (4 * DAY)) return;
  const r = rand();
  const code = r < 0.4 ? 428 : r < 0.7 ? 408 : r < 0.8 ? 503 : r < 0.9 ? 500 : r < 0.95 ? 440 : 401;
  report.disconnects[code] = (report.disconnects[code] ?? 0) + 1;
  let endsAt: number | null = null;
  if (code === 428 || code === 408 || code === 503) {
    // Mostly a blip the worker's own reconnect fixes; one in eight lasts hours.
    endsAt = now + (rand() < 0.875 ? (1 + rand() * 10) * MIN : (1 + rand() * 8) * H);
  }
  if (code === 401) {
    co.loggedOut = true;
    report.loggedOut++;
  }
  co.outage = { code, since: now, endsAt };
}

function endOutage(co: Company): void {
  co.outage = null;
  co.loggedOut = false;
  co.pendingQrUntil = null;
}

/** The live / stale count the supervisor would store after a scan (countSnapshot's rules). */
function recount(co: Company, now: number, report: MonthReport): void {
  // As countSnapshot does: only the categories a rule can delete go to the planner.
  const rules = rulesOf(co);
  const withPreKeys = countPreKeys(co) > rules.keepPreKeys;
  const files = toFiles(co).filter(
    (f) => AGE_RULED_CATEGORIES.has(f.category) || (withPreKeys && f.category === "pre-key"),
  );
  const plan = planCleanup(files, rules, now);
  co.stale = plan.delete.length;
  co.heldByMinAge = plan.heldByMinAge;
  co.heldUntil = plan.heldUntil;
  const basis = co.settings.count.basis;
  const preKeys = countPreKeys(co);
  co.counted =
    basis === "stale"
      ? co.stale
      : basis === "total"
        ? co.files.size
        : co.files.size - Math.min(resolvePreKeyReserve(co.settings.preKeyReserve), preKeys);
  if (now >= report.startedAt + DAY) report.maxStaleSteady = Math.max(report.maxStaleSteady, co.stale);
  if (co.stale > report.maxStale) {
    report.maxStale = co.stale;
    report.maxStaleCompany = co.id;
  }
  report.maxTotal = Math.max(report.maxTotal, co.files.size);
}

function rulesOf(co: Company) {
  return cleanupRulesFor(co.settings, { newestPreKeyId: co.nextPreKeyId - 1, ownUsers: [ME, ME_LID] });
}

function toFiles(co: Company): CleanupFile[] {
  return [...co.files].map(([name, mtimeMs]) => ({ name, category: classifyFile(name), size: 1, mtimeMs }));
}

/** Carries out a ladder cleanup the way the executor would, and checks what it deleted. */
function runCleanup(
  co: Company,
  mode: "smart" | "reset",
  why: "down" | "emergency" | "maintenance",
  now: number,
  rand: () => number,
  report: MonthReport,
): void {
  const files = toFiles(co);
  const rules = rulesOf(co);
  if (mode === "reset") {
    report.resets++;
    if (!hasKeyStateEvidence(evidenceOf(co, now))) report.resetsWithoutEvidence++;
  }
  const plan = mode === "reset" ? planReset(files, rules) : planCleanup(files, rules, now);
  for (const d of plan.delete) {
    if (mode === "smart" && now - (co.files.get(d.file) ?? now) < rules.minAgeMs) report.youngFilesDeleted++;
    const user = fileUser(d.file);
    if (
      (user === ME || user === ME_LID) &&
      (d.category === "session" || d.category === "identity-key" || d.category === "device-list")
    )
      report.ownFilesDeleted++;
    co.files.delete(d.file);
  }
  report.filesDeleted += plan.delete.length;
  if (why !== "down") {
    report.stops++;
    if (plan.delete.length < co.settings.ladder.minCleanupFiles) report.stopsBelowMinCleanupFiles++;
    report.smallestStopDeleted = Math.min(
      report.smallestStopDeleted ?? plan.delete.length,
      plan.delete.length,
    );
  } else report.cleanupsWhileDown++;
  // Repairing the key state: a reset fixes a badSession episode most of the time, a smart cleanup sometimes.
  if (co.outage?.code === 500 && rand() < (mode === "reset" ? 0.9 : 0.3)) endOutage(co);
  recount(co, now, report);
}
