/**
 * Isolate liveness: every isolate beats `["parley", "isolate", iso]` with a
 * deadline stored in the value (`expireIn` only as a backstop: it may fire
 * late). A live isolate that sees a deadline passed claims the dead record
 * with an atomic check — so one isolate alone sweeps it — removes the dead
 * isolate's connections from presence, has each one's group told, and
 * deletes its inbox.
 *
 * @module
 */
import { BUS_KEYS, removeInbox } from "./bus.ts";
import { retryLocked } from "./kv_retry.ts";
import { type ConnectionRecord, type Presence, PRESENCE_KEYS } from "./presence.ts";

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

/** Options of {@linkcode Liveness}. */
export interface LivenessOptions {
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
  /**
   * This isolate's record was just written (at start, or again after an
   * eviction); `ready` waits for it, so nothing is accepted before it is done.
   */
  onRegistered?: () => Promise<void>;
  /**
   * The other live isolates as a beat just read them, in a read that started
   * at `startedAt` (`performance.now()`).
   */
  onLive?: (live: string[], startedAt: number) => void;
  /**
   * Another isolate took this one for dead (it missed its deadline, e.g. a
   * stalled event loop) and swept its connections: they must reconnect.
   */
  onEvicted?: () => void;
}

/**
 * This isolate's beat and the sweep of dead ones.
 *
 * @example
 * ```ts ignore
 * const liveness = new Liveness({ kv, isolate, presence, ttlMs: 15_000, onGone });
 * await liveness.start();
 * await liveness.liveIsolates(); // the other live isolates, read now
 * await liveness.close();
 * ```
 */
export class Liveness {
  readonly kv: Deno.Kv;
  readonly isolate: string;
  readonly ttlMs: number;
  readonly #options: LivenessOptions;
  readonly #since = Date.now();
  #versionstamp: string | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating: Promise<void> | null = null;
  #sweeps = new Set<Promise<void>>();
  /** Isolates this one is sweeping now. */
  readonly #sweeping = new Set<string>();
  #ready: Promise<void>;
  #readyNow: () => void = () => {};
  #evicted = false;
  #closing: Promise<void> | null = null;

  constructor(options: LivenessOptions) {
    this.kv = options.kv;
    this.isolate = options.isolate;
    this.ttlMs = options.ttlMs;
    this.#options = options;
    this.#ready = new Promise((resolve) => (this.#readyNow = resolve));
  }

  /** Resolves once this isolate's record is in KV (and again after an eviction). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Writes the first beat, then beats and sweeps every third of the TTL. */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#closing) return;
    this.#timer = setInterval(() => this.#tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
    Deno.unrefTimer(Number(this.#timer));
    await this.#register();
    this.#track(this.#sweepOrphans());
  }

  /** The other live isolates, read from KV now (to start up; routing asks the directory). */
  async liveIsolates(): Promise<string[]> {
    const now = Date.now();
    const live = [];
    for await (const entry of this.kv.list<IsolateRecord>({ prefix: LIVENESS_KEYS.isolates })) {
      if (this.#isLive(entry, now)) live.push(entry.key[2] as string);
    }
    return live;
  }

  #isLive(entry: Deno.KvEntry<IsolateRecord>, now: number): boolean {
    const iso = entry.key[2] as string;
    return iso !== this.isolate && entry.value.sweeper === undefined && entry.value.deadline > now;
  }

  /** Stops beating and sweeping, and deletes this isolate's record. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await this.#beating;
      await Promise.all(this.#sweeps);
      if (this.#versionstamp !== null) {
        const versionstamp = this.#versionstamp;
        const key = LIVENESS_KEYS.isolate(this.isolate);
        await retryLocked(() => this.kv.atomic().check({ key, versionstamp }).delete(key).commit());
      }
      this.#readyNow();
    })();
    return this.#closing;
  }

  #record(): IsolateRecord {
    return { deadline: Date.now() + this.ttlMs, since: this.#since };
  }

  #expireIn(): number {
    // The backstop must outlive any sweep: dead records are read, not expired.
    return Math.max(10 * this.ttlMs, 3_600_000);
  }

  async #register(): Promise<void> {
    const key = LIVENESS_KEYS.isolate(this.isolate);
    const result = await retryLocked(() =>
      this.kv.atomic()
        .check({ key, versionstamp: null })
        .set(key, this.#record(), { expireIn: this.#expireIn() })
        .commit()
    );
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

  #tick(): void {
    if (this.#beating || this.#closing) return;
    this.#beating = (async () => {
      try {
        await this.#beat();
        await this.#sweepDead();
      } catch (error) {
        if (!this.#closing) console.error("liveness: beat failed", error);
      } finally {
        this.#beating = null;
      }
    })();
  }

  async #beat(): Promise<void> {
    if (this.#versionstamp === null) return this.#register();
    const key = LIVENESS_KEYS.isolate(this.isolate);
    const versionstamp = this.#versionstamp;
    const result = await retryLocked(() =>
      this.kv.atomic()
        .check({ key, versionstamp })
        .set(key, this.#record(), { expireIn: this.#expireIn() })
        .commit()
    );
    if (result.ok) {
      this.#versionstamp = result.versionstamp;
      return;
    }
    // Someone took this isolate for dead and is sweeping (or swept) it. Its
    // connections are gone from presence: have them reconnect, and come back
    // once the sweep has deleted the record.
    console.error(`liveness: ${this.isolate} was taken for dead; dropping its connections`);
    this.#versionstamp = null;
    if (!this.#evicted) {
      this.#evicted = true;
      this.#ready = new Promise((resolve) => (this.#readyNow = resolve));
      this.#options.onEvicted?.();
    }
  }

  /** Claims and sweeps every isolate whose deadline has passed. */
  async #sweepDead(): Promise<void> {
    // Heads first: an isolate records itself before anyone writes to its
    // inbox, so a head seen here whose isolate has no record in the later
    // list belongs to an isolate that closed (a sender's last events raced
    // its close). Its inbox is removed; no one will read it.
    const heads = new Set<string>();
    for await (const entry of this.kv.list({ prefix: BUS_KEYS.heads })) {
      heads.add(entry.key[2] as string);
    }
    const startedAt = performance.now();
    const now = Date.now();
    const live = [];
    for await (const entry of this.kv.list<IsolateRecord>({ prefix: LIVENESS_KEYS.isolates })) {
      const iso = entry.key[2] as string;
      heads.delete(iso);
      if (this.#isLive(entry, now)) live.push(iso);
      if (iso === this.isolate || this.#closing) continue;
      // Dead at its deadline, but its clients may still resume elsewhere.
      const lastBeat = entry.value.deadline - this.ttlMs;
      if (lastBeat + Math.max(this.ttlMs, this.#options.resumeGraceMs ?? 0) > now) continue;
      if (this.#sweeping.has(iso)) continue;
      // A sweeper that died mid-sweep lets its claim lapse; the next one resumes.
      const claimed = await this.#claim(iso, entry.versionstamp, entry.value.since);
      if (claimed) this.#track(this.#sweep(iso, claimed));
    }
    this.#options.onLive?.(live, startedAt);
    heads.delete(this.isolate);
    for (const iso of heads) {
      if (this.#closing) return;
      await removeInbox(this.kv, iso);
    }
  }

  /**
   * Isolates that left connections behind and no record at all (one whose
   * record outlived even the backstop): swept like dead ones, once, at start.
   */
  async #sweepOrphans(): Promise<void> {
    // Connections first: an isolate records itself before any of its
    // connections, so one seen here and missing from the later list is gone.
    const owners = new Set<string>();
    for await (
      const entry of this.kv.list<ConnectionRecord>({ prefix: PRESENCE_KEYS.connections })
    ) {
      if (entry.value.isolate !== this.isolate) owners.add(entry.value.isolate);
    }
    if (owners.size === 0) return;
    for await (const entry of this.kv.list({ prefix: LIVENESS_KEYS.isolates })) {
      owners.delete(entry.key[2] as string);
    }
    for (const iso of owners) {
      if (this.#closing) return;
      const claimed = await this.#claim(iso, null, 0);
      if (claimed) await this.#sweep(iso, claimed);
    }
  }

  /** Marks `iso` as being swept by this isolate; the versionstamp of the claim, or null if lost. */
  async #claim(iso: string, versionstamp: string | null, since: number): Promise<string | null> {
    const key = LIVENESS_KEYS.isolate(iso);
    const claim: IsolateRecord = {
      deadline: Date.now() + this.ttlMs,
      since,
      sweeper: this.isolate,
    };
    const result = await retryLocked(() =>
      this.kv.atomic()
        .check({ key, versionstamp })
        .set(key, claim, { expireIn: this.#expireIn() })
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
    let removed = 0;
    const told: Promise<unknown>[] = [];
    for await (
      const entry of this.kv.list<ConnectionRecord>({ prefix: PRESENCE_KEYS.connections })
    ) {
      if (this.#closing) return; // the claim lapses; another isolate resumes
      if (entry.value.isolate !== iso) continue;
      if (await this.#options.presence.evict(entry)) {
        removed++;
        told.push(
          this.#options.onGone(entry.value).catch((error) => {
            console.error("liveness: cannot tell the group of a dead connection", error);
          }),
        );
      }
    }
    await Promise.all(told);
    await removeInbox(this.kv, iso);
    const key = LIVENESS_KEYS.isolate(iso);
    await retryLocked(() =>
      this.kv.atomic().check({ key, versionstamp: claim }).delete(key).commit()
    );
    this.#options.onSwept?.(iso);
    console.log(`liveness: swept dead isolate ${iso} (${removed} connections)`);
  }

  #track(sweep: Promise<void>): void {
    const tracked = sweep.catch((error) => console.error("liveness: sweep failed", error));
    this.#sweeps.add(tracked);
    tracked.finally(() => this.#sweeps.delete(tracked));
  }
}
