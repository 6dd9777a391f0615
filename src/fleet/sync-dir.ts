/** Durability helper shared by everything that renames or unlinks inside a folder. */
import { open } from "node:fs/promises";

/** fsync a folder so the renames and unlinks in it survive a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
