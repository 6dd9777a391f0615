/**
 * One incident, one alert (invariant 16). A logout reached the operator three times: the
 * worker's transition to qr_required, the ladder's "QR required", and the ladder executor's own
 * second transition; a 440 twice (transition + the ladder's "human needed"). Notices that describe
 * the same incident of a company share a family; the gate lets the first of a family through per
 * down episode (the connection's downSince) and drops the rest. A new episode (the company was
 * open in between) opens the gate again.
 */

/** The incident a notice kind belongs to, or null for notices that are never merged. */
export function incidentFamily(kind: string, connectionState: string | null): string | null {
  switch (kind) {
    case "connection-qr_required":
    case "connection-forbidden":
    case "ladder-qr_required":
      return "device-gone";
    case "connection-replaced":
      return "replaced";
    case "connection-outdated_client":
      return "outdated";
    case "ladder-human_needed":
      // The ladder's "human needed" for a terminal state repeats the transition's notice; after
      // failed reconnects (state reconnecting...) it is news and passes.
      if (connectionState === "replaced") return "replaced";
      if (connectionState === "outdated_client") return "outdated";
      if (connectionState === "qr_required" || connectionState === "forbidden") return "device-gone";
      return null;
    default:
      return null;
  }
}

/** Remembers which incident families were already told per company and episode. */
export interface IncidentGate {
  /** true: send it; false: the same incident was already reported in this episode. */
  admit(company: string, family: string | null, episode: number | null): boolean;
}

/** A gate with its memory in this process (the transition cursor and ladder memory survive restarts). */
export function createIncidentGate(): IncidentGate {
  const told = new Map<string, { episode: number | null; families: Set<string> }>();
  return {
    admit(company, family, episode) {
      if (family === null) return true;
      let entry = told.get(company);
      if (!entry || entry.episode !== episode) {
        entry = { episode, families: new Set() };
        told.set(company, entry);
      }
      if (entry.families.has(family)) return false;
      entry.families.add(family);
      return true;
    },
  };
}
