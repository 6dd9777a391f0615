/** A company folder that looks paired (registered creds.json), written by our atomic auth state. */
import { useAtomicMultiFileAuthState } from "../../src/worker/auth-state.js";

/** Creates `dir` with a registered creds.json (what a finished pairing leaves). */
export async function createPairedFolder(dir: string, phone = "5511987654321"): Promise<void> {
  const { state, saveCreds, flush } = await useAtomicMultiFileAuthState(dir);
  state.creds.registered = true;
  state.creds.me = { id: `${phone}:1@s.whatsapp.net`, name: "test" };
  await saveCreds();
  await flush();
}
