/**
 * Isolate liveness: the beat of this isolate's record (liveness/beat.ts)
 * and the sweep of dead ones (liveness/sweeper.ts), on one timer: every
 * third of the TTL, beat, then sweep.
 *
 * @module
 */
import { Beat, type BeatOptions, isAlive, isolateRecords } from "./liveness/beat.ts";
import { Sweeper, type SweeperOptions } from "./liveness/sweeper.ts";

export { type IsolateRecord, LIVENESS_KEYS } from "./liveness/beat.ts";

/** Options of {@linkcode Liveness}: the beat's and the sweeper's, and what a beat read. */
export interface LivenessOptions extends BeatOptions, SweeperOptions {
  /**
   * The other live isolates as a beat just read them, in a read that started
   * at `startedAt` (`performance.now()`).
   */
  onLive?: (live: string[], startedAt: number) => void;
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
  readonly #beat: Beat;
  readonly #sweeper: Sweeper;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  constructor(options: LivenessOptions) {
    this.kv = options.kv;
    this.isolate = options.isolate;
    this.ttlMs = options.ttlMs;
    this.#options = options;
    this.#beat = new Beat(options);
    this.#sweeper = new Sweeper(options);
  }

  /** Resolves once this isolate's record is in KV (and again after an eviction). */
  get ready(): Promise<void> {
    return this.#beat.ready;
  }

  /** Writes the first beat, then beats and sweeps every third of the TTL. */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#closing) return;
    this.#timer = setInterval(() => this.#tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
    Deno.unrefTimer(Number(this.#timer));
    await this.#beat.register();
    this.#sweeper.sweepOrphans();
  }

  /** The other live isolates, read from KV now (to start up; routing asks the directory). */
  async liveIsolates(): Promise<string[]> {
    const now = Date.now();
    const live = [];
    for await (const entry of isolateRecords(this.kv)) {
      const iso = entry.key[2] as string;
      if (iso !== this.isolate && isAlive(entry.value, now)) live.push(iso);
    }
    return live;
  }

  /**
   * The other live isolates, read fresh from KV (for a caller that must not
   * trust the directory's view, such as a PeerJS id claim).
   */
  others(): Promise<string[]> {
    return this.liveIsolates();
  }

  /** Stops beating and sweeping, and deletes this isolate's record. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await this.#beating;
      await this.#sweeper.close();
      await this.#beat.remove();
    })();
    return this.#closing;
  }

  #tick(): void {
    if (this.#beating || this.#closing) return;
    this.#beating = (async () => {
      try {
        await this.#beat.beat();
        const { live, startedAt } = await this.#sweeper.sweepDead();
        if (!this.#closing) this.#options.onLive?.(live, startedAt);
      } catch (error) {
        if (!this.#closing) console.error("liveness: beat failed", error);
      } finally {
        this.#beating = null;
      }
    })();
  }
}
