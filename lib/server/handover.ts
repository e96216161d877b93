/**
 * The hand-over of a connection between isolates: the isolate that takes a
 * session over asks the old one to let it go; the old one routes on the
 * frames its client missed, then a marker ({@linkcode RELEASED}) that says
 * whether that was all of them. The taker waits for the marker, a while.
 *
 * @module
 */
import { CLOSE } from "../protocol/mod.ts";
import type { Cluster } from "./cluster.ts";
import type { Registry } from "./registry.ts";

/**
 * How long a takeover waits for the old isolate to hand over what its
 * client missed before it takes that isolate for dead and starts afresh.
 */
export const RELEASE_TIMEOUT_MS = 3_000;

/**
 * What an isolate routes to a connection it let go, after the frames its
 * client missed: all were sent on, or some were no longer kept. Never a
 * frame's JSON, so never mistaken for one; never reaches a socket.
 */
export const RELEASED = { all: "\u0000released", gap: "\u0000released:gap" } as const;

/**
 * The takeovers of one isolate that wait for their old isolate's marker.
 *
 * @example
 * ```ts
 * import { Handovers, RELEASED } from "./handover.ts";
 * const handovers = new Handovers();
 * const whole = handovers.wait("cid:x");
 * handovers.settle("cid:x", RELEASED.all); // true: a marker, for no socket
 * await whole; // true
 * ```
 */
export class Handovers {
  /** Takeovers waiting for their old isolate's hand-over, by cid. */
  readonly #waiting = new Map<string, (complete: boolean) => void>();

  constructor(private readonly timeoutMs = RELEASE_TIMEOUT_MS) {}

  /**
   * Takes in a hand-over marker routed to `cid`; true when `text` was one
   * (it goes to no socket).
   */
  settle(cid: string, text: string): boolean {
    if (text !== RELEASED.all && text !== RELEASED.gap) return false;
    this.#waiting.get(cid)?.(text === RELEASED.all);
    return true;
  }

  /**
   * Resolves to whether the old isolate handed `cid` over whole, within the
   * timeout (false after it). A later wait for the same cid ends this one
   * with false.
   */
  wait(cid: string): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (complete: boolean) => {
        clearTimeout(timer);
        if (this.#waiting.get(cid) === done) this.#waiting.delete(cid);
        resolve(complete);
      };
      const timer = setTimeout(() => done(false), this.timeoutMs);
      this.#waiting.get(cid)?.(false);
      this.#waiting.set(cid, done);
    });
  }
}

/**
 * The old isolate's side: connection `cid` was resumed on another isolate,
 * whose client had received `received` frames. Drops it from `registry`
 * without a word to its group or presence, and routes on what its client
 * missed, then the marker.
 *
 * @example
 * ```ts ignore
 * release(registry, cluster, "cid:x", 12); // the frames after the 12th, then RELEASED.all
 * ```
 */
export function release(
  registry: Registry,
  cluster: Pick<Cluster, "route">,
  cid: string,
  received: number,
): void {
  const connection = registry.get(cid);
  const missed = connection?.log.since(received) ?? null;
  if (connection) {
    registry.remove(connection);
    connection.close(CLOSE.normal, "Resumed on another server");
  }
  for (const text of missed ?? []) cluster.route({ cid }, text, 0);
  // After the frames, in their order: the taker knows it has them all (or not).
  cluster.route({ cid }, missed === null ? RELEASED.gap : RELEASED.all, 0);
}
