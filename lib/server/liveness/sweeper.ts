/**
 * The sweep of dead isolates: a live isolate that sees a deadline passed
 * claims the dead record with an atomic check — so one isolate alone sweeps
 * it — removes the dead isolate's connections from presence, has each
 * one's group told, and deletes its inbox. It asks the owners of each
 * schema (presence, the bus's keys, the beat's records) and reads none of
 * their keys itself.
 *
 * @module
 */
import { isolatesWithInbox, removeInbox } from "../bus/mod.ts";
import { retryLocked } from "../kv_retry.ts";
import type { ConnectionRecord, Presence } from "../presence.ts";
import {
  isAlive,
  type IsolateRecord,
  isolateRecords,
  LIVENESS_KEYS,
  recordExpireIn,
} from "./beat.ts";

/** Options of {@linkcode Sweeper}. */
export interface SweeperOptions {
  kv: Deno.Kv;
  /** This isolate's id. */
  isolate: string;
  presence: Presence;
  /** How long a beat keeps an isolate alive (ms); it beats every third of this. */
  ttlMs: number;
  /**
   * How long after its last beat a dead isolate's connections wait for
   * their clients to resume them on another isolate before they are removed.
   * @default ttlMs
   */
  resumeGraceMs?: number;
  /** Tells the group of a connection removed because its isolate died. */
  onGone: (record: ConnectionRecord) => Promise<unknown>;
  /** A dead isolate is swept: what it sent ahead will never be completed. */
  onSwept?: (isolate: string) => void;
}

/**
 * The sweeps this isolate makes.
 *
 * @example
 * ```ts ignore
 * const sweeper = new Sweeper({ kv, isolate, presence, ttlMs, onGone });
 * const { live } = await sweeper.sweepDead(); // each beat
 * await sweeper.close();
 * ```
 */
export class Sweeper {
  readonly #options: SweeperOptions;
  readonly #sweeps = new Set<Promise<void>>();
  /** Isolates this one is sweeping now. */
  readonly #sweeping = new Set<string>();
  #closing = false;

  constructor(options: SweeperOptions) {
    this.#options = options;
  }

  /**
   * Claims and sweeps every isolate whose deadline (and resume grace) has
   * passed. Resolves to the other live isolates the read found, and when
   * that read started (`performance.now()`).
   */
  async sweepDead(): Promise<{ live: string[]; startedAt: number }> {
    const { kv, isolate, ttlMs } = this.#options;
    // Heads first: an isolate records itself before anyone writes to its
    // inbox, so a head seen here whose isolate has no record in the later
    // list belongs to an isolate that closed (a sender's last events raced
    // its close). Its inbox is removed; no one will read it.
    const heads = await isolatesWithInbox(kv);
    const startedAt = performance.now();
    const now = Date.now();
    const live = [];
    for await (const entry of isolateRecords(kv)) {
      const iso = entry.key[2] as string;
      heads.delete(iso);
      if (iso === isolate || this.#closing) continue;
      if (isAlive(entry.value, now)) live.push(iso);
      // Dead at its deadline, but its clients may still resume elsewhere.
      const lastBeat = entry.value.deadline - ttlMs;
      if (lastBeat + Math.max(ttlMs, this.#options.resumeGraceMs ?? 0) > now) continue;
      if (this.#sweeping.has(iso)) continue;
      // A sweeper that died mid-sweep lets its claim lapse; the next one resumes.
      const claimed = await this.#claim(iso, entry.versionstamp, entry.value.since);
      if (claimed) this.#track(this.#sweep(iso, claimed));
    }
    heads.delete(isolate);
    for (const iso of heads) {
      if (this.#closing) break;
      await removeInbox(kv, iso);
    }
    return { live, startedAt };
  }

  /**
   * Isolates that left connections behind and no record at all (one whose
   * record outlived even the backstop): swept like dead ones, once, at start.
   */
  sweepOrphans(): void {
    this.#track(this.#sweepOrphans());
  }

  async #sweepOrphans(): Promise<void> {
    const { kv, isolate, presence } = this.#options;
    // Connections first: an isolate records itself before any of its
    // connections, so one seen here and missing from the later list is gone.
    const owners = new Set<string>();
    for await (const entry of presence.allConnections()) {
      if (entry.value.isolate !== isolate) owners.add(entry.value.isolate);
    }
    if (owners.size === 0) return;
    for await (const entry of isolateRecords(kv)) owners.delete(entry.key[2] as string);
    for (const iso of owners) {
      if (this.#closing) return;
      const claimed = await this.#claim(iso, null, 0);
      if (claimed) await this.#sweep(iso, claimed);
    }
  }

  /** Waits for the sweeps under way; starts no more. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#sweeps);
  }

  /** Marks `iso` as being swept by this isolate; the versionstamp of the claim, or null if lost. */
  async #claim(iso: string, versionstamp: string | null, since: number): Promise<string | null> {
    const { kv, isolate, ttlMs } = this.#options;
    const key = LIVENESS_KEYS.isolate(iso);
    const claim: IsolateRecord = { deadline: Date.now() + ttlMs, since, sweeper: isolate };
    const result = await retryLocked(() =>
      kv.atomic()
        .check({ key, versionstamp })
        .set(key, claim, { expireIn: recordExpireIn(ttlMs) })
        .commit()
    );
    return result.ok ? result.versionstamp : null;
  }

  /** Removes a dead isolate's connections (telling their groups), inbox and record. */
  async #sweep(iso: string, claim: string): Promise<void> {
    this.#sweeping.add(iso);
    try {
      await this.#sweepOne(iso, claim);
    } finally {
      this.#sweeping.delete(iso);
    }
  }

  async #sweepOne(iso: string, claim: string): Promise<void> {
    const { kv, presence, onGone } = this.#options;
    let removed = 0;
    const told: Promise<unknown>[] = [];
    for await (const entry of presence.allConnections()) {
      if (this.#closing) return; // the claim lapses; another isolate resumes
      if (entry.value.isolate !== iso) continue;
      if (await presence.evict(entry)) {
        removed++;
        told.push(
          onGone(entry.value).catch((error) => {
            console.error("liveness: cannot tell the group of a dead connection", error);
          }),
        );
      }
    }
    await Promise.all(told);
    await removeInbox(kv, iso);
    const key = LIVENESS_KEYS.isolate(iso);
    await retryLocked(() => kv.atomic().check({ key, versionstamp: claim }).delete(key).commit());
    this.#options.onSwept?.(iso);
    console.log(`liveness: swept dead isolate ${iso} (${removed} connections)`);
  }

  #track(sweep: Promise<void>): void {
    const tracked = sweep.catch((error) => console.error("liveness: sweep failed", error));
    this.#sweeps.add(tracked);
    tracked.finally(() => this.#sweeps.delete(tracked));
  }
}
