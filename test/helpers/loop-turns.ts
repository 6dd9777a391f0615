/** Counts event-loop turns while async work runs (work sliced with setImmediate lets them through). */
export async function countTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let tracing = true;
  const turn = () => {
    if (!tracing) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  try {
    return { result: await work(), turns };
  } finally {
    tracing = false;
  }
}
