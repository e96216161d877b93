/**
 * Frames for PeerJS peers that are not connected (yet): held on the
 * sender's isolate, in order, until the peer comes or the wait runs out
 * (then the senders get `EXPIRE`, as from PeerJS). Bounded per peer and in
 * all, so ids that never come cannot fill memory.
 *
 * @module
 */
import { PEERJS_DEFAULTS } from "../../protocol/mod.ts";

/** One waiting frame: who sent it and its text (already stamped). */
export interface WaitingFrame {
  src: string;
  text: string;
}

interface Queue {
  /** When the queue was made or last read (ms, `performance.now()`): PeerJS's `lastReadAt`. */
  since: number;
  frames: WaitingFrame[];
}

/** Options of {@linkcode Waiting}. */
export interface WaitingOptions {
  /** Frames held for one peer. @default PEERJS_DEFAULTS.maxWaitingPerPeer */
  perPeer?: number;
  /** Frames held in all. @default PEERJS_DEFAULTS.maxWaiting */
  total?: number;
  /** The clock. @default performance.now */
  now?: () => number;
}

/**
 * The waiting frames of one isolate, by destination id.
 *
 * @example
 * ```ts
 * import { Waiting } from "./waiting.ts";
 * const waiting = new Waiting();
 * waiting.add("bob", { src: "alice", text: '{"type":"OFFER"}' });
 * waiting.take("bob").length; // 1
 * ```
 */
export class Waiting {
  readonly #queues = new Map<string, Queue>();
  readonly #perPeer: number;
  readonly #max: number;
  readonly #now: () => number;
  #total = 0;

  constructor(options: WaitingOptions = {}) {
    this.#perPeer = options.perPeer ?? PEERJS_DEFAULTS.maxWaitingPerPeer;
    this.#max = options.total ?? PEERJS_DEFAULTS.maxWaiting;
    this.#now = options.now ?? (() => performance.now());
  }

  /** How many frames wait in all. */
  get size(): number {
    return this.#total;
  }

  /** Whether frames wait for `dst` (later ones must queue behind them). */
  has(dst: string): boolean {
    return this.#queues.has(dst);
  }

  /** The ids frames wait for. */
  destinations(): string[] {
    return [...this.#queues.keys()];
  }

  /** Holds a frame for `dst`; false when the bounds are reached (the frame is refused). */
  add(dst: string, frame: WaitingFrame): boolean {
    const queue = this.#queues.get(dst);
    if (this.#total >= this.#max || (queue?.frames.length ?? 0) >= this.#perPeer) return false;
    if (queue) queue.frames.push(frame);
    else this.#queues.set(dst, { since: this.#now(), frames: [frame] });
    this.#total++;
    return true;
  }

  /** Removes and returns the frames waiting for `dst`, oldest first. */
  take(dst: string): WaitingFrame[] {
    const queue = this.#queues.get(dst);
    if (!queue) return [];
    this.#queues.delete(dst);
    this.#total -= queue.frames.length;
    return queue.frames;
  }

  /**
   * Drops the queues older than `timeoutMs` and returns who must hear
   * `EXPIRE`: each (sender, destination) pair once.
   */
  expire(timeoutMs: number): Array<{ src: string; dst: string }> {
    const now = this.#now();
    const expired: Array<{ src: string; dst: string }> = [];
    for (const [dst, queue] of this.#queues) {
      if (now - queue.since < timeoutMs) continue;
      const senders = new Set(queue.frames.map((frame) => frame.src));
      for (const src of senders) expired.push({ src, dst });
      this.take(dst);
    }
    return expired;
  }
}
