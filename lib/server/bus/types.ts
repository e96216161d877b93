/**
 * The bus's shared shapes: its counters (what its sending and receiving
 * halves did, for tests and the benchmark), the channel's batch, and the
 * error of a send not known to be safe.
 *
 * @module
 */

/** Counters of what the bus did. */
export interface BusStats {
  /** Events handed to `publish`, once per target isolate. */
  published: number;
  /** Atomic commits made to other inboxes. */
  commits: number;
  /** Events delivered from the KV copy (an entry, or the head that carries its copy). */
  fromKv: number;
  /** Listings of this isolate's inbox (a head that carried its commit's events needs none). */
  listings: number;
  /** Commits that only deleted consumed entries (most ride the outgoing commits). */
  deleteCommits: number;
  /** Events delivered from the BroadcastChannel copy. */
  fromBroadcast: number;
  /** Broadcast batches dropped on purpose (`broadcastDrop`). */
  dropped: number;
  /** Holes skipped because their entries were gone for good. */
  skipped: number;
  /** Commits that failed (each is retried). */
  failedCommits: number;
  /** `publishCommitted` calls told the bus is unavailable. */
  unavailable: number;
}

/**
 * Counters at zero.
 *
 * @example
 * ```ts
 * import { emptyStats } from "./stats.ts";
 * emptyStats().commits; // 0
 * ```
 */
export function emptyStats(): BusStats {
  return {
    published: 0,
    commits: 0,
    fromKv: 0,
    listings: 0,
    deleteCommits: 0,
    fromBroadcast: 0,
    dropped: 0,
    skipped: 0,
    failedCommits: 0,
    unavailable: 0,
  };
}

/**
 * One broadcast on the channel: the sender's isolate (`s`), and
 * `[target, first seq, lines]` per target isolate (`b`).
 */
export interface Broadcast {
  s: string;
  b: Array<[string, number, string[]]>;
}

/**
 * KV kept failing: the events of a `publishCommitted` call are not known to
 * be committed. They stay queued (they may still arrive), but nobody may
 * count on them.
 *
 * @example
 * ```ts ignore
 * try {
 *   await bus.publishCommitted(["iso-b"], "hello");
 * } catch (error) {
 *   if (error instanceof BusUnavailableError) console.log("not known to be safe");
 * }
 * ```
 */
export class BusUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusUnavailableError";
  }
}
