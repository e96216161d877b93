/**
 * The heartbeat, one sweep over every connection per period, instead of a
 * timer per socket (Deno's `idleTimeout` sets and clears one on every frame
 * a socket receives, and pings each silent socket from its own timer).
 *
 * Each sweep, a connection gets the application's `ping` when, during the
 * whole period before, its client sent nothing or the server sent it
 * nothing: an idle socket answers with a `pong` (which carries its resume
 * counter) and is then left alone for one period, so it gets a ping every
 * second period — traffic both ways often enough for a proxy that cuts
 * sockets idle for 60 s at the default 25 s. A connection whose client sent
 * nothing in the whole period after its ping is taken for dead (one to three
 * periods after its last frame). That needs a whole period of silence after
 * a ping, not a clock deadline, so a late sweep (a busy event loop) never
 * takes a live connection for dead.
 *
 * @module
 */

/** What a sweep needs of a connection. */
export interface Beating {
  /** When the last frame arrived from its client (ms, `performance.now()`). */
  lastSeen: number;
  /** Whether anything was sent to it since the last sweep; the sweep clears it. */
  sentSinceBeat: boolean;
  /** The sweep that last pinged it (a count, see {@linkcode Heartbeat}). */
  pingedInBeat: number;
  /** Sends the ping (and so sets `sentSinceBeat`). */
  sendUncounted(text: string): void;
}

/**
 * The longest a live connection goes without a frame from the server, for
 * the welcome's `heartbeat` (the SDK's watchdog waits twice that, plus 5 s).
 */
export function serverSilenceMs(periodMs: number): number {
  return 2 * periodMs;
}

const PING = '{"type":"ping"}';

/**
 * The sweeps of one hub.
 *
 * @example
 * ```ts
 * import { Heartbeat } from "./heartbeat.ts";
 * const heart = new Heartbeat(25_000, 0);
 * const connection = {
 *   lastSeen: 0,
 *   sentSinceBeat: false,
 *   pingedInBeat: -1,
 *   sendUncounted: (_: string) => {},
 * };
 * heart.beat([connection], () => console.log("dead"), 25_000); // pings it
 * heart.beat([connection], () => console.log("dead"), 50_000); // logs "dead": no answer
 * ```
 */
export class Heartbeat {
  /** When the previous sweep ran (ms, `performance.now()`). */
  #previous: number;
  /** How many sweeps ran. */
  #count = 0;

  /** @param periodMs The time between sweeps (`PARLEY_HEARTBEAT_MS`). */
  constructor(readonly periodMs: number, now: number = performance.now()) {
    this.#previous = now;
  }

  /**
   * Sweeps `connections` (open and welcomed ones only): pings the quiet,
   * hands the dead to `onDead`.
   */
  beat<T extends Beating>(
    connections: Iterable<T>,
    onDead: (connection: T) => void,
    now: number = performance.now(),
  ): void {
    const quietSince = this.#previous;
    const previousBeat = this.#count - 1;
    const thisBeat = this.#count++;
    this.#previous = now;
    for (const connection of connections) {
      const quiet = connection.lastSeen < quietSince;
      // Pinged by the previous sweep, and nothing came back in the whole period since.
      if (quiet && connection.pingedInBeat === previousBeat) {
        onDead(connection);
        continue;
      }
      const sent = connection.sentSinceBeat;
      connection.sentSinceBeat = false;
      if (quiet || !sent) {
        connection.pingedInBeat = thisBeat;
        connection.sendUncounted(PING);
      }
    }
  }
}
