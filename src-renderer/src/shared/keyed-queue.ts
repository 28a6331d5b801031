/**
 * Work kept in order per key: a task that names some keys starts only once every task made
 * before it that names any of the same keys has settled (answered or failed). Tasks on other keys
 * run alongside. The marks of one image use it, so an undo leaves only after the reject it undoes
 * has been answered, and the core stores them in the order the user made them.
 */
export class KeyedQueue<K> {
  /** For each key, the last task that names it, settled or not. */
  private readonly tails = new Map<K, Promise<void>>();

  run<T>(keys: readonly K[], task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.flatMap((key) => this.tails.get(key) ?? []);
    // Nothing to wait for: the task starts now, in this turn (a mark's request leaves on the key
    // press, before the render its optimistic update schedules).
    const result = before.length === 0 ? startNow(task) : Promise.all(before).then(task);
    // The next task waits for this one to settle, whatever its outcome: a failure stops nothing.
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    for (const key of unique) this.tails.set(key, settled);
    void settled.then(() => {
      for (const key of unique) if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return result;
  }

  /** Whether a task that names `key` is waiting or running. */
  busy(key: K): boolean {
    return this.tails.has(key);
  }
}

/** Runs a task at once; a task that throws before returning its promise rejects like one that fails later. */
function startNow<T>(task: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(task());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
