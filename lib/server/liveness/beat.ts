/**
 * This isolate's beat: its liveness record `["parley", "isolate", iso]`,
 * with a deadline stored in the value (`expireIn` is only a backstop: it
 * may fire late), renewed under a versionstamp check so that an isolate
 * taken for dead notices. The owner of the liveness schema.
 *
 * @module
 */
import { retryLocked } from "../kv_retry.ts";

/** The KV keys of liveness, in one place. */
export const LIVENESS_KEYS = {
  isolate: (iso: string) => ["parley", "isolate", iso] as const,
  isolates: ["parley", "isolate"] as const,
};

/** What an isolate's liveness record holds. */
export interface IsolateRecord {
  /** The isolate counts as dead once `Date.now()` is past this (ms since the epoch). */
  deadline: number;
  /** When the isolate first beat (ms since the epoch). */
  since: number;
  /** Set when the isolate is dead and this other isolate is sweeping it. */
  sweeper?: string;
}

/** Whether a liveness record says its isolate is alive at `now`. */
export function isAlive(record: IsolateRecord, now: number): boolean {
  return record.sweeper === undefined && record.deadline > now;
}

/** The backstop `expireIn` of liveness records: it must outlive any sweep. */
export function recordExpireIn(ttlMs: number): number {
  return Math.max(10 * ttlMs, 3_600_000);
}

/** Options of {@linkcode Beat}. */
export interface BeatOptions {
  kv: Deno.Kv;
  isolate: string;
  ttlMs: number;
  /**
   * This isolate's record was just written (at start, or again after an
   * eviction); `ready` waits for it, so nothing is accepted before it is done.
   */
  onRegistered?: () => Promise<void>;
  /**
   * Another isolate took this one for dead (it missed its deadline, e.g. a
   * stalled event loop) and swept its connections: they must reconnect.
   */
  onEvicted?: () => void;
}

/**
 * The record of this isolate.
 *
 * @example
 * ```ts ignore
 * const beat = new Beat({ kv, isolate: "iso-a", ttlMs: 15_000 });
 * await beat.register();
 * await beat.beat(); // every third of the TTL
 * await beat.remove();
 * ```
 */
export class Beat {
  readonly #options: BeatOptions;
  readonly #since = Date.now();
  #versionstamp: string | null = null;
  #ready: Promise<void>;
  #readyNow: () => void = () => {};
  #evicted = false;

  constructor(options: BeatOptions) {
    this.#options = options;
    this.#ready = new Promise((resolve) => (this.#readyNow = resolve));
  }

  /** Resolves once this isolate's record is in KV (and again after an eviction). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  #write(versionstamp: string | null): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const { kv, isolate, ttlMs } = this.#options;
    const key = LIVENESS_KEYS.isolate(isolate);
    const record: IsolateRecord = { deadline: Date.now() + ttlMs, since: this.#since };
    return retryLocked(() =>
      kv.atomic()
        .check({ key, versionstamp })
        .set(key, record, { expireIn: recordExpireIn(ttlMs) })
        .commit()
    );
  }

  /** Writes the record if there is none (none left by a sweep of this isolate). */
  async register(): Promise<void> {
    const result = await this.#write(null);
    if (!result.ok) return; // a sweep of an earlier eviction is still running
    this.#versionstamp = result.versionstamp;
    this.#evicted = false;
    try {
      await this.#options.onRegistered?.();
    } catch (error) {
      console.error("liveness: cannot announce this isolate", error);
    }
    this.#readyNow();
  }

  /** Pushes the deadline on; notices an eviction; registers again once its sweep is over. */
  async beat(): Promise<void> {
    if (this.#versionstamp === null) return this.register();
    const result = await this.#write(this.#versionstamp);
    if (result.ok) {
      this.#versionstamp = result.versionstamp;
      return;
    }
    // Someone took this isolate for dead and is sweeping (or swept) it. Its
    // connections are gone from presence: have them reconnect, and come back
    // once the sweep has deleted the record.
    console.error(
      `liveness: ${this.#options.isolate} was taken for dead; dropping its connections`,
    );
    this.#versionstamp = null;
    if (!this.#evicted) {
      this.#evicted = true;
      this.#ready = new Promise((resolve) => (this.#readyNow = resolve));
      this.#options.onEvicted?.();
    }
  }

  /** Deletes this isolate's record (if it is still its own) and settles `ready`. */
  async remove(): Promise<void> {
    if (this.#versionstamp !== null) {
      const versionstamp = this.#versionstamp;
      const key = LIVENESS_KEYS.isolate(this.#options.isolate);
      const { kv } = this.#options;
      await retryLocked(() => kv.atomic().check({ key, versionstamp }).delete(key).commit());
    }
    this.#readyNow();
  }
}

/**
 * The liveness records of every isolate, as KV entries.
 *
 * @example
 * ```ts ignore
 * for await (const entry of isolateRecords(kv)) console.log(entry.key[2], entry.value.deadline);
 * ```
 */
export function isolateRecords(kv: Deno.Kv): Deno.KvListIterator<IsolateRecord> {
  return kv.list<IsolateRecord>({ prefix: LIVENESS_KEYS.isolates });
}
