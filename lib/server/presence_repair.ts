/**
 * Presence repairs itself. A leave KV refused past its tries (a locked
 * database) leaves its connection's record behind: a ghost, listed in its
 * room. Its isolate removes that record a second after the leave failed,
 * reading only the records of failed leaves, and again while KV keeps
 * failing (backing off to 15 s, so a ghost goes within about 15 s of KV
 * working again, however long it failed). Every `presenceRepairMs` each
 * isolate also checks all its records against its live connections: the
 * backstop. Each removal is one checked commit of the record, its
 * membership and its room's count (`Presence.evict`), so counts never drift
 * from members.
 *
 * @module
 */
import type { ConnectionRecord, Presence } from "./presence.ts";

/** How soon a failed leave's record is removed (ms), doubled while KV keeps failing. */
const SOON_MS = 1_000;
/** The longest the early repair waits between tries (ms). */
const SOON_MAX_MS = 15_000;

/**
 * The presence repair of one isolate; its timers keep no process alive.
 *
 * @example
 * ```ts ignore
 * const repair = new PresenceRepair(presence, (cid) => registry.get(cid) !== undefined, 60_000);
 * presence.disconnect(who, "lobby").catch(() => repair.leaveFailed(who.cid));
 * await repair.close();
 * ```
 */
export class PresenceRepair {
  /** The connections whose leave KV refused. */
  readonly #failed = new Set<string>();
  readonly #every: ReturnType<typeof setInterval>;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #soonMs = SOON_MS;
  /** The repairs under way: close() waits for them, so KV is never closed under one. */
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;

  /**
   * @param live Whether connection `cid` is open on this isolate.
   * @param everyMs How often all records are checked (`PARLEY_PRESENCE_REPAIR_MS`).
   */
  constructor(
    private readonly presence: Presence,
    private readonly live: (cid: string) => boolean,
    everyMs: number,
  ) {
    this.#every = setInterval(() => this.#track(() => this.#reconcileLogged()), everyMs);
    Deno.unrefTimer(Number(this.#every));
  }

  /** The leave of `cid` failed: its record is removed soon. */
  leaveFailed(cid: string): void {
    this.#failed.add(cid);
    this.#repairSoon();
  }

  /** How many failed leaves wait for {@linkcode repairLeaves}. */
  get pending(): number {
    return this.#failed.size;
  }

  /**
   * Removes the records the failed leaves left behind, reading only those.
   * Resolves to how many were removed; rejects when KV fails again (what is
   * left is tried next time).
   */
  async repairLeaves(): Promise<number> {
    let removed = 0;
    // Each pass takes what failed so far; a leave that fails meanwhile is in the next.
    for (const cid of [...this.#failed]) {
      // A write still under way for it goes first (the next pass takes it).
      if (this.presence.writing(cid)) continue;
      const entry = await this.presence.entry(cid);
      if (entry.value !== null && this.#stale(entry.value)) {
        if (await this.presence.evict(entry as Deno.KvEntry<ConnectionRecord>)) removed++;
      }
      this.#failed.delete(cid);
    }
    return removed;
  }

  /**
   * Removes every record of this isolate whose connection is not live
   * (connections with a write under way are left to it). Resolves to how
   * many were removed.
   */
  async reconcile(): Promise<number> {
    const found: Deno.KvEntry<ConnectionRecord>[] = [];
    for await (const entry of this.presence.allConnections()) {
      if (this.#stale(entry.value)) found.push(entry);
    }
    let removed = 0;
    // Asked again just before each removal: a connection may arrive meanwhile.
    for (const entry of found) {
      if (this.#stale(entry.value) && await this.presence.evict(entry)) removed++;
    }
    return removed;
  }

  /** Stops the timers and waits for the repairs under way. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#every);
    clearTimeout(this.#soon);
    await Promise.all(this.#running);
  }

  #stale(record: ConnectionRecord): boolean {
    return record.isolate === this.presence.isolate && !this.live(record.cid) &&
      !this.presence.writing(record.cid);
  }

  #repairSoon(): void {
    if (this.#closed || this.#soon !== undefined) return;
    this.#soon = setTimeout(() => this.#track(() => this.#repairLeavesLogged()), this.#soonMs);
    Deno.unrefTimer(Number(this.#soon));
  }

  async #repairLeavesLogged(): Promise<void> {
    let done = true;
    try {
      const removed = await this.repairLeaves();
      if (removed > 0) console.warn(`presence: repaired ${removed} stale record(s)`);
    } catch (error) {
      console.error("presence: cannot repair", error);
      done = false;
    }
    this.#soon = undefined;
    this.#soonMs = done ? SOON_MS : Math.min(2 * this.#soonMs, SOON_MAX_MS);
    if (this.#failed.size > 0) this.#repairSoon();
  }

  async #reconcileLogged(): Promise<void> {
    try {
      const removed = await this.reconcile();
      if (removed > 0) console.warn(`presence: repaired ${removed} stale record(s)`);
    } catch (error) {
      // KV still failing: the next round tries again.
      console.error("presence: cannot repair", error);
    }
  }

  #track(start: () => Promise<void>): void {
    if (this.#closed) return;
    const repair = start();
    this.#running.add(repair);
    repair.finally(() => this.#running.delete(repair));
  }
}
