/**
 * A simulated fleet month with a harm model of its own, written from Baileys' behaviour and not
 * from wa-warden's rules, run under two policies for `npm run bench:month` and
 * `test/fleet-month.test.ts`:
 * - "defaults": wa-warden's shipped defaults (the pure ladder `decide`, the scanner's count, the
 *   cleanup and reset planners), fed as the runner feeds them (flap-aware episodes);
 * - "naive": the seed's ladder (count every file, clean files older than 7 days at 150, full
 *   cleanup at 200, "500 means broken keys": reset, then QR required).
 * No I/O: a company folder is a map of file name -> mtime, and the model knows who owns each file.
 *
 * The harm model (Baileys rc14 / libsignal):
 * - live or stale is judged at the moment of the deletion from the simulated world's own truth, the
 *   same rule for every policy (LIVE_RULE): a file is live when the world is using it at that
 *   moment: creds.json and our own phone's files, a pre-key the server holds and no new contact
 *   has consumed yet, the files of a contact the world has in a conversation (its next message
 *   continues the current stretch of talk). Everything else is stale at that moment: a contact who
 *   went quiet (its next message, if any, comes back after a silence), a group member's sender key
 *   (created once and never touched here; members write alone, weeks apart), a consumed pre-key.
 *   A stale file's deletion is not harmless: when its owner writes again (a quiet contact coming
 *   back, be it two days or five weeks later, a group member sending) the first message fails and
 *   costs a retry round trip, counted as a first-message failure when it happens. The deleted
 *   files of quiet contacts who came back within two days are also counted on their own;
 * - a contact writing after its session was deleted: the first message fails to decrypt ("No
 *   session record") and costs a retry round trip; a new contact whose pre-key was deleted: the
 *   same ("Invalid PreKey ID"); a member whose sender key was deleted: the same;
 * - pre-keys: 812 at pairing, one used per new contact, 812 more uploaded when 5 or fewer are left
 *   on the server (folders above 812);
 * - outages never come from files (logging in reads creds.json only): 428 / 408 / 503 blips and
 *   long ones, 500 with causes unrelated to files (a stream error that passes, a TLS-inspecting
 *   proxy or a wrong clock that last until a person fixes them), 401 (logged out: a pairing is
 *   legitimately needed), 440, flapping companies (open 1 minute in 8 for hours), one fleet-wide
 *   network outage;
 * - a person fixes a proxy / clock 500 a few hours after being told ("human needed") or half a day
 *   after it started when nobody tells them; a forced re-pairing makes a new identity: every file
 *   is gone and every contact's next message fails once.
 */
import { cleanupRulesFor, countSnapshot } from "../src/actions/cleanup/count-stale.js";
import { downIntervalsOf, withoutDownTime } from "../src/actions/cleanup/down-time.js";
import { type CleanupFile, type CleanupPlan, planCleanup } from "../src/actions/cleanup/plan-cleanup.js";
import { planReset } from "../src/actions/cleanup/plan-reset.js";
import { type CompanySettings, companyDefaultsSchema } from "../src/config/schema.js";
import { classifyFile } from "../src/fleet/classify-file.js";
import { decide, EMPTY_MEMORY, type LadderMemory } from "../src/ladder/decide.js";
import { type ConnectionEvent, episodeStartOf, flapsOf } from "../src/ladder/flapping.js";
import { NO_EVIDENCE } from "../src/ladder/key-state-evidence.js";
import { prng } from "../test/helpers/crash-trial.js";

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const ME = "5511987654321";
const ME_LID = "99887766554433";

/** The two ladders compared. */
export type Policy = "defaults" | "naive";

/** What "live file deleted" means here, printed by `npm run bench:month` beside the figures. */
export const LIVE_RULE =
  "a file is live when the simulated world is using it at the moment of the deletion: creds.json " +
  "and our own phone's files, a pre-key the server holds and no new contact has consumed, the files " +
  "of a contact in a conversation (its next message continues the current stretch of talk); a quiet " +
  "contact's files and a group member's sender key are stale, and what deleting them costs is " +
  "counted as a first-message failure when the owner writes again";

/** A run of the shipped defaults with other cleanup ages (durations as in warden.json). */
export interface DefaultsVariant {
  label: string;
  cleanup: { sessionMaxAge?: string; foreignSenderKeyMaxAge?: string };
}

/** How big a month to simulate. */
export interface MonthOptions {
  companies: number;
  days: number;
  seed?: number;
  /** Ladder check period (fake clock). Default 5 min. */
  tickMs?: number;
  /** Extra runs of the defaults with other cleanup ages, after the two policies. */
  variants?: readonly DefaultsVariant[];
}

/** What one policy did to the fleet in the month, judged by the harm model. */
export interface PolicyRow {
  policy: Policy;
  /** "defaults", "naive" or a variant's label */
  label: string;
  /** qr_required / a new pairing forced on a company WhatsApp had not logged out */
  forcedRePairings: number;
  /** files deleted while in use (an active contact's, a pre-key the server holds, our own phone's) */
  liveFilesDeleted: number;
  /** the same, by what the file was (active contact, pre-key, own) */
  liveDeletedBy: Record<string, number>;
  /** stale files of quiet contacts deleted less than two days before the contact wrote again (their cost is in firstMessageFailures) */
  quietBackWithinTwoDays: number;
  /** first messages that failed to decrypt because of a deleted file, returning contacts and group members included (each costs a retry round trip) */
  firstMessageFailures: number;
  /** stops that could not help: a cleanup of a down company (files never keep it down) or one deleting < 20 files */
  socketsStoppedForNothing: number;
  stops: number;
  filesDeleted: number;
  resets: number;
  /** pairings after a real 401 (not harm) */
  loggedOutPairings: number;
  alerts: Record<string, number>;
}

/** Both rows and the shared facts of the month. */
export interface MonthReport {
  companies: number;
  days: number;
  disconnects: Record<string, number>;
  rows: PolicyRow[];
  ms: number;
}

interface Contact {
  lid: string;
  pn: string;
  /** next message time; Infinity: never writes again */
  next: number;
  activeUntil: number;
  returned: boolean;
  /** the world has the contact in a conversation: its next message continues the current stretch */
  talking: boolean;
}

interface Member {
  file: string;
  next: number;
}

interface Outage {
  code: number;
  /** "blip" ends at endsAt; "person": a proxy / clock 500 a person fixes; "qr": 401; "other": 440 */
  cause: "blip" | "person" | "qr" | "other";
  since: number;
  endsAt: number;
  toldAt: number | null;
}

interface Company {
  id: string;
  settings: CompanySettings;
  files: Map<string, number>;
  contacts: Contact[];
  /** each contact file's contact */
  owners: Map<string, Contact>;
  members: Member[];
  /** pre-key ids on the server not yet used: [serverLow, nextPreKeyId) */
  serverLow: number;
  nextPreKeyId: number;
  met: number;
  perDay: number;
  outage: Outage | null;
  /** flapping until then (open 1 min in 8), closing with flapCode */
  flapUntil: number;
  flapCode: number;
  /** the world's draws for this company: outages, and traffic */
  outRand: () => number;
  trafficRand: () => number;
  events: ConnectionEvent[];
  memory: LadderMemory;
  counted: number;
  stale: number;
  heldByMinAge: number;
  heldUntil: number | null;
  naiveResetAt: number | null;
  naiveQrDone: boolean;
}

/** Runs the same month (same seed, same disconnects) under both policies. */
export function simulateFleetMonth(options: MonthOptions): MonthReport {
  const started = performance.now();
  const disconnects: Record<string, number> = {};
  const settings = companyDefaultsSchema.parse({});
  const rows = [
    runPolicy(options, "defaults", "defaults", settings, disconnects),
    runPolicy(options, "naive", "naive", settings, {}),
    ...(options.variants ?? []).map((v) =>
      runPolicy(options, "defaults", v.label, companyDefaultsSchema.parse({ cleanup: v.cleanup }), {}),
    ),
  ];
  return {
    companies: options.companies,
    days: options.days,
    disconnects,
    rows,
    ms: performance.now() - started,
  };
}

function runPolicy(
  options: MonthOptions,
  policy: Policy,
  label: string,
  settings: CompanySettings,
  disconnects: Record<string, number>,
): PolicyRow {
  // Two streams: the world (contacts, outages) is the same under both policies.
  const world = prng(options.seed ?? 8);
  const tick = options.tickMs ?? 5 * MIN;
  const T0 = Date.UTC(2026, 10, 2, 0, 0);
  const end = T0 + options.days * DAY;
  const row: PolicyRow = {
    policy,
    label,
    forcedRePairings: 0,
    liveFilesDeleted: 0,
    liveDeletedBy: {},
    quietBackWithinTwoDays: 0,
    firstMessageFailures: 0,
    socketsStoppedForNothing: 0,
    stops: 0,
    filesDeleted: 0,
    resets: 0,
    loggedOutPairings: 0,
    alerts: {},
  };
  const fleetOutage = T0 + Math.floor(options.days / 2) * DAY + 10 * H;
  const companies: Company[] = [];
  for (let c = 0; c < options.companies; c++) {
    const co: Company = {
      id: `co-${String(c).padStart(3, "0")}`,
      settings,
      files: new Map(),
      contacts: [],
      owners: new Map(),
      members: [],
      serverLow: 1,
      nextPreKeyId: 1,
      met: 0,
      perDay: 0.5 + world() * 12,
      outage: null,
      flapUntil: c % 20 === 7 ? T0 + (3 + (c % 5)) * DAY + 6 * H : 0,
      flapCode: c % 40 === 7 ? 500 : 428,
      outRand: prng((options.seed ?? 8) * 1_000 + c),
      trafficRand: prng((options.seed ?? 8) * 7_919 + c),
      events: [{ to: "open", code: null, at: T0 - 60 * DAY }],
      memory: EMPTY_MEMORY,
      counted: 0,
      stale: 0,
      heldByMinAge: 0,
      heldUntil: null,
      naiveResetAt: null,
      naiveQrDone: false,
    };
    pair(co, T0 - 60 * DAY, world);
    // History: contacts met over the last 60 days, most quiet by now, some coming back.
    const history = Math.floor(co.perDay * 25 * world());
    for (let i = 0; i < history; i++) newContact(co, T0 - Math.floor(world() * 60 * DAY), world, row, false);
    for (const c of co.contacts) talk(co, c, T0 - 1, co.trafficRand, row, true);
    companies.push(co);
  }

  for (let now = T0; now < end; now += tick) {
    const hourly = (now - T0) % H === 0;
    const fleetOffline = now >= fleetOutage && now < fleetOutage + 90 * MIN;
    for (const co of companies) {
      connectivity(co, now, disconnects, fleetOutage);
      if (hourly) traffic(co, now, co.trafficRand, row);
      if (policy === "defaults") defaultsCheck(co, now, hourly, fleetOffline, row);
      else if (hourly) naiveCheck(co, now, row);
    }
  }
  return row;
}

/** A fresh pairing: creds, app-state, 812 pre-keys on disk and on the server, our own phone's files. */
function pair(co: Company, at: number, rand: () => number): void {
  co.files.clear();
  co.files.set("creds.json", at);
  for (let i = 0; i < 5; i++) co.files.set(`app-state-sync-key-AAAAA${i}.json`, at);
  for (const n of ["critical_block", "regular", "regular_high", "regular_low"])
    co.files.set(`app-state-sync-version-${n}.json`, at);
  co.serverLow = co.nextPreKeyId;
  for (let i = 0; i < 812; i++) co.files.set(`pre-key-${co.nextPreKeyId++}.json`, at);
  for (const f of ownFiles()) co.files.set(f, at);
  // Group members met before: one sender key each, created once; some write again much later.
  co.members = [];
  const groups = Math.floor(rand() * 10);
  for (let g = 0; g < groups; g++)
    for (let m = 0; m < 3 + Math.floor(rand() * 15); m++) {
      const file = `sender-key-1203630${co.id.slice(3)}${String(g).padStart(6, "0")}@g.us--3100${g}${m}_1--0.json`;
      co.files.set(file, at);
      co.members.push({ file, next: at + Math.floor(-Math.log(1 - rand()) * 20 * DAY) });
    }
}

function ownFiles(): string[] {
  return [`session-${ME}.0.json`, `session-${ME_LID}_1.0.json`, `identity-key-${ME}.0.json`];
}
const OWN: ReadonlySet<string> = new Set(ownFiles());

function contactFiles(c: Pick<Contact, "lid" | "pn">): string[] {
  return [
    `session-${c.lid}_1.0.json`,
    `identity-key-${c.lid}_1.0.json`,
    `lid-mapping-${c.pn}.json`,
    `lid-mapping-${c.lid}_reverse.json`,
    `device-list-${c.pn}.json`,
    `tctoken-${c.lid}@lid.json`,
  ];
}

/** A new contact's first message uses the oldest pre-key the server still holds. */
function newContact(co: Company, at: number, rand: () => number, row: PolicyRow, count: boolean): void {
  const preKey = `pre-key-${co.serverLow}.json`;
  if (!co.files.has(preKey) && count) row.firstMessageFailures++; // Invalid PreKey ID: a retry round trip
  co.files.delete(preKey); // libsignal deletes the used one
  co.serverLow++;
  if (co.nextPreKeyId - co.serverLow <= 5)
    for (let i = 0; i < 812; i++) co.files.set(`pre-key-${co.nextPreKeyId++}.json`, at);
  const n = co.met++;
  const c: Contact = {
    lid: String(200000000000000 + n),
    pn: String(5511900000000 + n),
    next: at + Math.floor(-Math.log(1 - rand()) * DAY),
    activeUntil: at + Math.floor(-Math.log(1 - rand()) * 10 * DAY),
    returned: false,
    talking: true,
  };
  for (const f of contactFiles(c)) {
    co.files.set(f, at);
    co.owners.set(f, c);
  }
  co.contacts.push(c);
}

/** One hour of messages (nothing flows while down; it arrives on the next hour up). */
function traffic(co: Company, now: number, rand: () => number, row: PolicyRow): void {
  if (co.outage) return;
  const busy = new Date(now).getUTCHours() >= 8 && new Date(now).getUTCHours() < 20 ? 2 : 0.2;
  if (rand() < (co.perDay / 24) * busy) newContact(co, now, rand, row, true);
  for (const c of co.contacts) talk(co, c, now, rand, row, false);
  for (const m of co.members) {
    if (m.next > now) continue;
    if (!co.files.has(m.file)) {
      row.firstMessageFailures++; // no sender key: that group message fails once, then is resent
      co.files.set(m.file, now);
    }
    m.next = now + Math.floor(-Math.log(1 - rand()) * 20 * DAY);
  }
  if (rand() < 0.05) co.files.set(`session-${ME}.0.json`, now);
}

/**
 * A contact's messages up to `until`, stamped when they arrive: on the hourly tick during the
 * month, at their own time for the history before it (`past`), so the folder the month starts with
 * holds sessions as old as their contacts' silence.
 */
function talk(co: Company, c: Contact, until: number, rand: () => number, row: PolicyRow, past: boolean) {
  while (c.next <= until) {
    const at = past ? c.next : until;
    const session = `session-${c.lid}_1.0.json`;
    if (!co.files.has(session)) {
      row.firstMessageFailures++; // No session record: the retry receipt rebuilds it
      for (const f of contactFiles(c)) co.files.set(f, at);
    }
    co.files.set(session, at);
    co.files.set(`tctoken-${c.lid}@lid.json`, at);
    c.talking = c.next < c.activeUntil; // writing on, or going quiet after this message
    if (c.talking) c.next += Math.floor(-Math.log(1 - rand()) * DAY);
    else if (!c.returned && rand() < 0.35) {
      c.returned = true; // back after weeks of silence
      c.next = c.activeUntil + Math.floor((5 + rand() * 35) * DAY);
      c.activeUntil = c.next + DAY;
    } else c.next = Number.POSITIVE_INFINITY;
  }
}

/** Disconnects (the same draws under both policies) and how they end. */
function connectivity(
  co: Company,
  now: number,
  disconnects: Record<string, number>,
  fleetOutage: number,
): void {
  const rand = co.outRand;
  const r1 = rand();
  const r2 = rand();
  const r3 = rand();
  const flapping = now < co.flapUntil && now > co.flapUntil - 6 * H;
  const record = (code: number, cause: Outage["cause"], endsAt: number, since = now) => {
    disconnects[code] = (disconnects[code] ?? 0) + 1;
    co.outage = { code, cause, since, endsAt, toldAt: null };
    co.events.push({ to: "reconnecting", code, at: since });
  };
  const o = co.outage;
  if (o) {
    const fixedByPerson =
      o.cause === "person" && now >= (o.toldAt === null ? o.since + 12 * H : o.toldAt + 3 * H);
    if ((o.cause !== "person" && o.cause !== "qr" && now >= o.endsAt) || fixedByPerson) {
      up(co, now);
      // Flapping: open one minute, then down seven, again and again.
      if (flapping) record(co.flapCode, "blip", now + 8 * MIN, now + MIN);
    }
    return;
  }
  if (now >= fleetOutage && now < fleetOutage + 5 * MIN) {
    record(408, "blip", fleetOutage + 90 * MIN);
    return;
  }
  if (flapping) {
    record(co.flapCode, "blip", now + 7 * MIN);
    return;
  }
  if (r1 > (5 * MIN) / (4 * DAY)) return; // about one disconnect per company every 4 days
  const blip = now + (r3 < 0.875 ? (1 + r3 * 80) * MIN : (1 + r3 * 8) * H);
  const [code, cause, endsAt]: [number, Outage["cause"], number] =
    r2 < 0.4
      ? [428, "blip", blip]
      : r2 < 0.65
        ? [408, "blip", blip]
        : r2 < 0.75
          ? [503, "blip", now + (10 + r3 * 120) * MIN]
          : r2 < 0.82
            ? [500, "blip", now + (1 + r3 * 10) * MIN] // a stream error that passes
            : r2 < 0.9
              ? [500, "person", Number.POSITIVE_INFINITY] // a TLS proxy, a wrong clock
              : r2 < 0.95
                ? [440, "other", now + 2 * H]
                : [401, "qr", Number.POSITIVE_INFINITY];
  record(code, cause, endsAt);
}

function up(co: Company, now: number): void {
  co.outage = null;
  co.events.push({ to: "open", code: null, at: now });
  co.naiveResetAt = null;
  co.naiveQrDone = false;
  if (co.events.length > 120) co.events.splice(0, co.events.length - 120);
}

/** The harm of a deletion, judged by the model (who owns the file and whether they come back). */
function applyDeletions(co: Company, names: readonly string[], now: number, row: PolicyRow): void {
  for (const n of names) {
    const owner = liveOwner(co, n);
    if (!co.files.delete(n)) continue;
    row.filesDeleted++;
    const quiet = co.owners.get(n);
    if (owner === undefined && quiet !== undefined && quiet.next - now < 2 * DAY)
      row.quietBackWithinTwoDays++;
    if (owner === undefined) continue;
    row.liveFilesDeleted++;
    row.liveDeletedBy[owner] = (row.liveDeletedBy[owner] ?? 0) + 1;
  }
}

/**
 * LIVE_RULE, from the world's state at the moment of the deletion (never from its future): whose
 * file it is when the world is using it now: a contact in a conversation, a pre-key the server
 * holds for the next new contact, our own phone's files, creds.json; undefined otherwise. A quiet
 * contact who writes again, however soon, or a group member who sends again, was not using the
 * file when it went: what deleting it costs is counted when they write (a first-message failure).
 */
function liveOwner(co: Company, name: string): string | undefined {
  if (name === "creds.json") return "creds";
  if (OWN.has(name)) return "own";
  if (name.startsWith("pre-key-")) {
    const id = Number(name.slice(8, -5));
    return id >= co.serverLow && id < co.nextPreKeyId ? "pre-key" : undefined;
  }
  const c = co.owners.get(name);
  return c?.talking === true ? "contact in a conversation" : undefined;
}

/**
 * WhatsApp removed the device (401): the new pairing was needed anyway, and what it costs the
 * contacts is WhatsApp's doing, not the policy's: they start over as new contacts.
 */
function loggedOutPairing(co: Company, now: number, row: PolicyRow): void {
  row.loggedOutPairings++;
  pair(co, now, () => 0.5);
  co.contacts = [];
  co.owners.clear();
  co.members = [];
  up(co, now);
}

/** A new identity: every file gone, every contact's next message fails once. */
function forcedPairing(co: Company, now: number): void {
  const members = co.members;
  pair(co, now, () => 0.5);
  co.members = members.map((m) => ({ ...m })); // the members still write; their keys are gone
  for (const m of co.members) co.files.delete(m.file);
}

// ------------------------------------------------------------------------------------------------
// Policy "defaults": the shipped ladder, as the runner feeds it.

function defaultsCheck(
  co: Company,
  now: number,
  hourly: boolean,
  fleetOffline: boolean,
  row: PolicyRow,
): void {
  if (hourly && (now / H) % 3 === 0) recount(co, now); // the scanner's count, every 3 hours here
  const o = co.outage;
  const state = !o ? "open" : o.code === 401 ? "qr_required" : o.code === 440 ? "replaced" : "reconnecting";
  const last = co.events.at(-1) as ConnectionEvent;
  const { stableAfter } = co.settings.ladder;
  const downSince = o ? episodeStartOf(co.events, o.since, stableAfter) : null;
  const decision = decide(
    {
      company: co.id,
      state,
      code: o?.code ?? null,
      downSince,
      openSince: o ? null : last.at,
      flaps: flapsOf(co.events, now, stableAfter),
      desired: "run",
      counted: co.counted,
      files: {
        total: co.files.size,
        stale: co.stale,
        heldByMinAge: co.heldByMinAge,
        heldUntil: co.heldUntil,
      },
      evidence: NO_EVIDENCE, // files never break in this model: no decrypt storm
      codesSeen: o ? [{ code: o.code, n: 1 }] : [],
      settings: co.settings,
      fleetOffline,
      memory: co.memory,
    },
    now,
  );
  co.memory = decision.memory;
  for (const { action } of decision.actions) {
    if (action.kind === "alert") {
      row.alerts[action.topic] = (row.alerts[action.topic] ?? 0) + 1;
      if (action.topic === "human_needed" && o && o.toldAt === null) o.toldAt = now;
    } else if (action.kind === "qr_required") {
      if (o?.code === 401) {
        loggedOutPairing(co, now, row);
      } else {
        row.forcedRePairings++;
        forcedPairing(co, now);
      }
    } else if (action.kind === "cleanup") {
      row.stops++;
      if (action.mode === "reset") row.resets++;
      const plan = productPlan(co, now, action.mode);
      applyDeletions(
        co,
        plan.delete.map((d) => d.file),
        now,
        row,
      );
      if (co.outage || plan.delete.length < 20) row.socketsStoppedForNothing++;
      recount(co, now);
    }
  }
}

function cleanupFiles(co: Company): CleanupFile[] {
  return [...co.files].map(([name, mtimeMs]) => ({ name, category: classifyFile(name), size: 1, mtimeMs }));
}

function productPlan(co: Company, now: number, mode: "smart" | "reset"): CleanupPlan {
  const rules = cleanupRulesFor(co.settings, { newestPreKeyId: co.nextPreKeyId - 1, ownUsers: [ME, ME_LID] });
  if (mode === "reset") return planReset(cleanupFiles(co), rules);
  return planCleanup(withoutDownTime(cleanupFiles(co), downIntervalsOf(co.events, now), now), rules, now);
}

/** What the scanner stores: countSnapshot over the folder, idleness without the down time. */
function recount(co: Company, now: number): void {
  const names = [...co.files.keys()];
  const preKeys = names.filter((n) => n.startsWith("pre-key-")).length;
  const counts = countSnapshot(
    {
      total: names.length,
      preKeys,
      names,
      mtimes: co.files,
      ownUsers: [ME, ME_LID],
      newestPreKeyId: co.nextPreKeyId - 1,
    },
    co.settings,
    now,
    downIntervalsOf(co.events, now),
  );
  co.counted = counts.counted;
  co.stale = counts.stale;
  co.heldByMinAge = counts.heldByMinAge;
  co.heldUntil = counts.heldUntil;
}

// ------------------------------------------------------------------------------------------------
// Policy "naive": the seed's ladder, hourly.

const KEEP = new Set(["creds.json"]);
const keptByNaive = (name: string) => KEEP.has(name) || name.startsWith("app-state-sync-");

function naiveCheck(co: Company, now: number, row: PolicyRow): void {
  const o = co.outage;
  if (o?.code === 401) {
    loggedOutPairing(co, now, row);
    return;
  }
  if (o?.code === 500) {
    // "500 means broken keys": a full cleanup after 30 minutes, then QR required.
    if (co.naiveResetAt === null && now - o.since >= 30 * MIN) {
      co.naiveResetAt = now;
      row.resets++;
      naiveCleanup(co, now, row, "full");
    } else if (co.naiveResetAt !== null && !co.naiveQrDone && now - co.naiveResetAt >= 5 * MIN) {
      co.naiveQrDone = true;
      row.forcedRePairings++;
      forcedPairing(co, now);
      if (o.cause === "person" && o.toldAt === null) o.toldAt = now; // the QR alert reaches a person
    }
    return;
  }
  if (o) return;
  const total = co.files.size; // every file counts
  if (total >= 200) naiveCleanup(co, now, row, "full");
  else if (total >= 150) naiveCleanup(co, now, row, "old");
}

function naiveCleanup(co: Company, now: number, row: PolicyRow, kind: "full" | "old"): void {
  row.stops++;
  const preKeys = [...co.files.keys()]
    .filter((n) => n.startsWith("pre-key-"))
    .sort((a, b) => Number(b.slice(8, -5)) - Number(a.slice(8, -5)));
  const keepPreKeys = new Set(preKeys.slice(0, 30)); // "keep at least 30 pre-keys"
  const doomed = [...co.files].filter(
    ([name, mtime]) =>
      !keptByNaive(name) && !keepPreKeys.has(name) && (kind === "full" || now - mtime >= 7 * DAY),
  );
  applyDeletions(
    co,
    doomed.map(([n]) => n),
    now,
    row,
  );
  if (co.outage || doomed.length < 20) row.socketsStoppedForNothing++;
}
