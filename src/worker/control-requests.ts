/**
 * The worker's control requests (`warden stop/start/reconnect/pair`): picks the pending requests of
 * the companies this instance owns, carries each out on the worker's sessions and records the
 * outcome. Ownership, leases and connecting stay with the worker (`worker.ts`); this file only
 * decides what each request does to them.
 */
import path from "node:path";
import type { Clock } from "../clock.js";
import type { WardenConfig } from "../config/load.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ControlRequest } from "../store/control.js";
import type { Store } from "../store/store.js";
import type { CompanySession } from "./company-session.js";
import { readCredsRegistered } from "./read-creds.js";

/** What a control request needs of its worker: its sessions, ownership and a way to connect. */
export interface ControlHost {
  store: Store;
  clock: Clock;
  config: WardenConfig;
  holder: string;
  log: Logger;
  /** The worker's sessions by company (a request adds or removes them). */
  sessions: Map<string, CompanySession>;
  /** True once the worker is closing: no further request is picked. */
  isClosed(): boolean;
  /** True when this instance owns `company`. */
  owns(company: string): boolean;
  /** The company folders on disk this instance owns. */
  ownedFolders(): Promise<string[]>;
  /** Takes the lease and starts a session; false when another worker holds the company. */
  connect(company: string, message: string, pairingPhone: string | null, restore?: boolean): Promise<boolean>;
}

/** Carries out the pending control requests of the companies this worker owns, one at a time. */
export async function handleControlRequests(host: ControlHost): Promise<void> {
  const { store, clock, holder } = host;
  for (const request of store.control.pending()) {
    if (host.isClosed() || !host.owns(request.company)) continue;
    if (!store.control.pick(request.id, holder, clock.now())) continue;
    let ok = true;
    let result: string;
    try {
      result = await execute(host, request);
    } catch (err) {
      ok = false;
      result = describeError(err);
    }
    host.log.info({ company: request.company, action: request.action, ok, requestId: request.id }, result);
    store.control.finish(request.id, ok, result, clock.now());
  }
}

async function execute(host: ControlHost, request: ControlRequest): Promise<string> {
  const { store, clock, holder, config, sessions } = host;
  const { company, action } = request;
  const owned = await host.ownedFolders();
  if (!owned.includes(company))
    throw new WardenError(
      ErrorCodes.COMPANY_UNKNOWN,
      `Unknown company ${JSON.stringify(company)}: no folder in ${config.sessionsDir}`,
      { company },
    );
  const session = sessions.get(company);
  const now = clock.now();
  switch (action) {
    case "stop": {
      store.control.setDesired(company, "stop", null, now);
      if (!session) return `${company} was not connected; it stays stopped`;
      sessions.delete(company);
      await session.stop(`stopped by ${request.requestedBy}`);
      store.leases.release(company, holder, clock.now(), "stopped");
      return `${company} stopped (no logout); it stays stopped until started`;
    }
    case "start": {
      store.control.setDesired(company, "run", store.control.desired(company).pairingPhone, now);
      if (session?.active) return `${company} is already ${session.state}`;
      if (session) {
        await session.start(`started by ${request.requestedBy}`);
        return `${company} starting`;
      }
      if (!(await host.connect(company, `started by ${request.requestedBy}`, null))) {
        throw leaseHeld(
          company,
          `${company} is held by another worker (lease); not starting a second socket`,
        );
      }
      return `${company} starting`;
    }
    case "reconnect": {
      store.control.setDesired(company, "run", store.control.desired(company).pairingPhone, now);
      if (!session) {
        if (!(await host.connect(company, `reconnect by ${request.requestedBy}`, null))) {
          throw leaseHeld(
            company,
            `${company} is held by another worker (lease); not starting a second socket`,
          );
        }
        return `${company} connecting`;
      }
      await session.reconnect(`reconnect by ${request.requestedBy}`);
      return `${company} reconnecting`;
    }
    case "recreate": {
      // A fresh worker slot for one company: the session object, its socket, its auth state and
      // key cache are dropped and the lease given back, then built anew as at a worker start. The
      // worker's other companies are untouched (a process restart would drop them all).
      if (session) {
        sessions.delete(company);
        await session.stop(`recreate by ${request.requestedBy}`, "offline");
        store.leases.release(company, holder, clock.now(), "socket recreated");
      }
      if (!(await host.connect(company, `recreated by ${request.requestedBy}`, null))) {
        throw leaseHeld(
          company,
          `${company} is held by another worker (lease); not starting a second socket`,
        );
      }
      return `${company} recreated: new session, socket and auth state`;
    }
    case "pair": {
      const phone = typeof request.args.phone === "string" ? request.args.phone : null;
      if (await readCredsRegistered(path.join(config.sessionsDir, company))) {
        throw new WardenError(
          ErrorCodes.COMPANY_PAIRED,
          `${company} is already paired (creds.json is registered); a new pairing needs its creds.json moved aside into a backup first`,
        );
      }
      store.control.setDesired(company, "run", phone, now);
      if (session) {
        await session.stop(`pairing requested by ${request.requestedBy}`);
        sessions.delete(company);
        store.leases.release(company, holder, clock.now(), "re-pairing");
      }
      // No restore: a pairing asks for a new identity in a folder whose creds.json was moved aside.
      if (!(await host.connect(company, `pairing requested by ${request.requestedBy}`, phone, false))) {
        throw leaseHeld(company, `${company} is held by another worker (lease)`);
      }
      return phone
        ? `${company} pairing by code for ${phone} started; the code follows within seconds`
        : `${company} pairing started; the first QR follows within seconds`;
    }
  }
}

/** A control request the worker cannot carry out because another holder has the company's lease. */
function leaseHeld(company: string, message: string): WardenError {
  return new WardenError(ErrorCodes.LEASE_HELD, message, { company });
}
