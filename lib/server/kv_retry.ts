/**
 * Retries of KV writes that SQLite refused with "database is locked".
 *
 * Isolates of `deno serve --parallel` (or processes) that open one SQLite
 * file each hold a connection of their own. An atomic operation with a
 * check reads before it writes; when another connection commits in
 * between, SQLite answers SQLITE_BUSY at once (no busy timeout helps with
 * a stale snapshot), and Deno KV throws `TypeError: database is locked`.
 * Rebuilding the operation and trying again is the fix; the check still
 * decides the outcome.
 *
 * @module
 */

/** Whether `error` is SQLite's "database is locked" (SQLITE_BUSY). */
export function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is locked|SQLITE_BUSY/i.test(error.message);
}

/**
 * Runs `write` until it does not fail with "database is locked", at most
 * `attempts` times, with a short random backoff.
 *
 * @throws The last error, when it is not a lock or the attempts are spent.
 *
 * @example
 * ```ts ignore
 * const { ok } = await retryLocked(() => kv.atomic().check(entry).delete(entry.key).commit());
 * ```
 */
export async function retryLocked<T>(write: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isLocked(error) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}
