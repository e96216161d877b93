/**
 * Coalesced notices: the notices a socket gets within one tick go out in
 * one `notices` frame (protocol v2), so a join storm costs a frame per
 * socket per tick rather than one per notice. The batch is sent once the
 * microtask queue has settled — the end of the current task, without a
 * timer's delay.
 *
 * @module
 */

/**
 * The texts of the `notices` frames of one flush, by the notices they
 * carry: the members of a room get the same notices, and so share one text
 * (one `JSON.stringify`, and one string in every resume log).
 */
export type NoticeTexts = Map<string, string>;

/** A connection whose queued notices wait for the end of the tick. */
export interface NoticeHolder {
  /** Sends what is queued (one frame), if anything; `texts` is this flush's cache. */
  flushNotices(texts?: NoticeTexts): void;
}

let lastId = 0;
const ids = new WeakMap<object, number>();

/**
 * A key for a list of notices: the same key for the same notice objects in
 * the same order.
 *
 * @example
 * ```ts
 * import { noticesKey } from "./notices.ts";
 * const a = {}, b = {};
 * noticesKey([a, b]) === noticesKey([a, b]); // true
 * ```
 */
export function noticesKey(notices: readonly object[]): string {
  let key = "";
  for (const notice of notices) {
    let id = ids.get(notice);
    if (id === undefined) ids.set(notice, id = ++lastId);
    key += `${id},`;
  }
  return key;
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
    const texts: NoticeTexts = new Map();
    for (const holder of holders) holder.flushNotices(texts);
  }
}

/** The batcher of this isolate. */
export const noticeBatcher: NoticeBatcher = new NoticeBatcher();
