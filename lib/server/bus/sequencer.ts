/**
 * The per-sender reorder buffer: events of one sender isolate are handed on
 * in seq order, each seq once, whichever copy (the channel's or KV's) comes
 * first. Channel copies that arrive ahead of a missing seq wait here; a
 * hole in KV that outlasts `holeMs` is skipped. No KV here: it is tested on
 * its own.
 *
 * @module
 */

/** Where a delivered event came from. */
export type Via = "channel" | "kv";

/** Options of {@linkcode Sequencer}. */
export interface SequencerOptions {
  /** Called once per seq, in order. */
  deliver: (line: string, via: Via) => void;
  /** Most channel events held ahead of a missing one. */
  buffered: number;
  /** How long a hole in KV may last before it is skipped (ms). */
  holeMs: number;
  /** Says a hole is skipped: seqs `from`–`to` are lost. */
  onSkip?: (from: number, to: number) => void;
  /** The clock (ms). @default Date.now */
  now?: () => number;
}

/**
 * The order of one sender's events.
 *
 * @example
 * ```ts
 * import { Sequencer } from "./sequencer.ts";
 * const got: string[] = [];
 * const sequencer = new Sequencer({ deliver: (l) => got.push(l), buffered: 100, holeMs: 1000 });
 * sequencer.offer(2, "b"); // held: 1 is missing
 * sequencer.accept(1, ["a", "b"]); // "a", then "b" once
 * got; // ["a", "b"]
 * ```
 */
export class Sequencer {
  /** The last seq delivered. */
  delivered = 0;
  readonly #ahead = new Map<number, string>();
  /** Since when a hole has kept KV entries from being delivered (0: none). */
  #holeSince = 0;
  readonly #options: SequencerOptions;
  readonly #now: () => number;

  constructor(options: SequencerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** How many channel events wait for a missing one. */
  get held(): number {
    return this.#ahead.size;
  }

  /** A channel copy of event `seq`: delivered now if it is next, else held (if room). */
  offer(seq: number, line: string): void {
    if (seq <= this.delivered) return;
    if (seq === this.delivered + 1) this.#next(line, "channel");
    else if (this.#ahead.size < this.#options.buffered) this.#ahead.set(seq, line);
  }

  /**
   * Whether a KV entry whose first event is `seq` is done with: its events
   * all delivered already.
   */
  isDone(seq: number, count: number): boolean {
    return seq + count - 1 <= this.delivered;
  }

  /**
   * The KV copy of events `seq`, `seq + 1`, …: delivers those not yet
   * delivered. False when a hole before `seq` holds them back (list again
   * later); the hole is skipped once it has lasted `holeMs`.
   */
  accept(seq: number, lines: readonly string[]): boolean {
    if (seq > this.delivered + 1 && !this.#skipHole(seq)) return false;
    this.#holeSince = 0;
    // Each delivery may also release events that came ahead over the
    // channel, so the next line is found from `delivered` every time.
    for (let i = this.delivered + 1 - seq; i < lines.length; i = this.delivered + 1 - seq) {
      this.#next(lines[i], "kv");
    }
    return true;
  }

  /** Drops the channel events held: their sender died and will not fill the hole. */
  forget(): void {
    this.#ahead.clear();
  }

  /** Delivers the event after the last one delivered, then any that waited for it. */
  #next(line: string, via: Via): void {
    this.delivered++;
    this.#ahead.delete(this.delivered);
    this.#options.deliver(line, via);
    while (this.#ahead.size > 0) {
      const next = this.#ahead.get(this.delivered + 1);
      if (next === undefined) break;
      this.delivered++;
      this.#ahead.delete(this.delivered);
      this.#options.deliver(next, "channel");
    }
  }

  #skipHole(seq: number): boolean {
    const now = this.#now();
    if (this.#holeSince === 0) this.#holeSince = now;
    if (now - this.#holeSince < this.#options.holeMs) return false;
    this.#options.onSkip?.(this.delivered + 1, seq - 1);
    this.delivered = seq - 1;
    this.#holeSince = 0;
    return true;
  }
}
