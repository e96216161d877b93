/**
 * Coalesced notices: the notices a socket gets within one tick go out in
 * one `notices` frame (protocol v2), so a join storm costs a frame per
 * socket per tick rather than one per notice. The batch is sent once the
 * microtask queue has settled — the end of the current task, without a
 * timer's delay.
 *
 * @module
 */

/** A connection whose queued notices wait for the end of the tick. */
export interface NoticeHolder {
  /** Sends what is queued (one frame), if anything. */
  flushNotices(): void;
}

/** How many microtask hops a flush waits at most for more notices of this task. */
const MAX_HOPS = 16;

/**
 * The connections with notices queued in this tick, flushed together.
 *
 * @example
 * ```ts ignore
 * noticeBatcher.hold(connection); // after queueing its first notice of the tick
 * ```
 */
export class NoticeBatcher {
  #holders = new Set<NoticeHolder>();
  /** Grows with every hold: a flush waits until a hop passes with no new one. */
  #held = 0;
  #scheduled = false;

  /** Flushes `holder` at the end of this tick. */
  hold(holder: NoticeHolder): void {
    this.#holders.add(holder);
    this.#held++;
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#settle(0);
  }

  #settle(hops: number): void {
    const seen = this.#held;
    queueMicrotask(() => {
      // Other requests of this task may still be a few awaits from their notices.
      if (this.#held !== seen && hops < MAX_HOPS) return this.#settle(hops + 1);
      this.flush();
    });
  }

  /** Sends every held connection's notices now. */
  flush(): void {
    this.#scheduled = false;
    const holders = this.#holders;
    this.#holders = new Set();
    for (const holder of holders) holder.flushNotices();
  }
}

/** The batcher of this isolate. */
export const noticeBatcher: NoticeBatcher = new NoticeBatcher();
