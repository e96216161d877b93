/**
 * The inbox entries this isolate consumed (their events delivered) whose
 * delete has not committed yet. The receiver adds them; the sender's
 * commits take some to delete beside their events, so most deletes cost no
 * commit of their own; the receiver deletes the rest.
 *
 * @module
 */

/**
 * Consumed entries, each taken by at most one commit at a time.
 *
 * @example
 * ```ts
 * import { ConsumedEntries } from "./consumed.ts";
 * const consumed = new ConsumedEntries();
 * consumed.add(["parley", "inbox", "iso-b", "iso-a", 1, 0, 1]);
 * const taken = consumed.take(200); // one [id, key] pair, now taken
 * consumed.done(taken.map(([id]) => id)); // its delete landed (or is given up)
 * consumed.waiting; // 0
 * ```
 */
export class ConsumedEntries {
  /** Keys by their text. */
  readonly #keys = new Map<string, Deno.KvKey>();
  /** The ids a commit under way deletes. */
  readonly #taken = new Set<string>();

  /** Counts `key` consumed (again, harmlessly, if a listing saw it twice). */
  add(key: Deno.KvKey): void {
    this.#keys.set(key.join("\0"), key);
  }

  /** How many no commit has taken. */
  get waiting(): number {
    return this.#keys.size - this.#taken.size;
  }

  /** Takes up to `max` entries no commit has taken, for one commit to delete. */
  take(max: number): Array<[id: string, key: Deno.KvKey]> {
    const taken: Array<[string, Deno.KvKey]> = [];
    for (const [id, key] of this.#keys) {
      if (taken.length === max) break;
      if (!this.#taken.has(id)) taken.push([id, key]);
    }
    for (const [id] of taken) this.#taken.add(id);
    return taken;
  }

  /** The commit that took `ids` is over: they are forgotten (a listing finds any left). */
  done(ids: Iterable<string>): void {
    for (const id of ids) {
      this.#keys.delete(id);
      this.#taken.delete(id);
    }
  }
}
