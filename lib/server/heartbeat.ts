/**
 * The heartbeat, one sweep over every connection per period (Deno's own
 * ping, `idleTimeout`, is off: it keeps a timer per socket, reset on every
 * frame the socket receives, and pings each silent socket from its own).
 *
 * Each sweep, a connection gets the application's `ping` when, during the
 * whole period before, its client sent nothing or the server sent it
 * nothing but pings: an idle socket gets one each period (25 s by default:
 * proxies and platforms cut sockets idle for 30–60 s) and answers with a
 * `pong` (which says how much its client received, so its resume log can
 * shrink). A socket the server sent something else to just after a sweep
 * is pinged at the sweep after next, so the server is never silent towards
 * a live connection for two periods. A connection whose client sent nothing
 * in the whole period after its ping is suspended (one to two periods
 * after its last frame). That needs a whole period of silence after a
 * ping, not a clock deadline, so a late sweep (a busy event loop) never
 * takes a live connection for dead.
 *
 * @module
 */
import { CLOSE, type Limits } from "../protocol/mod.ts";
import { type Connection, ConnectionState } from "./connection.ts";
import type { Registry } from "./registry.ts";

/**
 * The longest a live connection goes without a frame from the server (two
 * periods: see the module's doc), as the welcome's `heartbeat` tells it
 * (the SDK's watchdog waits twice that, plus 5 s).
 *
 * @example
 * ```ts
 * import { longestSilenceMs } from "./heartbeat.ts";
 * longestSilenceMs({ heartbeatMs: 25_000 }); // 50_000
 * ```
 */
export function longestSilenceMs(limits: Pick<Limits, "heartbeatMs">): number {
  return 2 * limits.heartbeatMs;
}

/** What a sweep needs of a connection. */
export interface Beating {
  /** When the last frame arrived from its client (ms, `performance.now()`). */
  lastSeen: number;
  /** Whether anything but a ping was sent to it since the last sweep; the sweep clears it. */
  sentSinceBeat: boolean;
  /** The sweep that last pinged it (a count, see {@linkcode HeartbeatSweep}). */
  pingedInBeat: number;
  /** Sends the ping (which sets `sentSinceBeat`; the sweep clears it again). */
  sendUncounted(text: string): void;
}

const PING = '{"type":"ping"}';

/**
 * The sweeps, without a timer or sockets (the clock is passed in).
 *
 * @example
 * ```ts
 * import { HeartbeatSweep } from "./heartbeat.ts";
 * const sweep = new HeartbeatSweep(25_000, 0);
 * const connection = {
 *   lastSeen: 0,
 *   sentSinceBeat: false,
 *   pingedInBeat: -1,
 *   sendUncounted: (_: string) => {},
 * };
 * sweep.beat([connection], () => console.log("dead"), 25_000); // pings it
 * sweep.beat([connection], () => console.log("dead"), 50_000); // logs "dead": no answer
 * ```
 */
export class HeartbeatSweep {
  /** When the previous sweep ran (ms, `performance.now()`). */
  #previous: number;
  /**
   * The number of the next sweep: from 1, so that no connection (its
   * `pingedInBeat` starts at -1) counts as pinged by a sweep before the first.
   */
  #count = 1;

  /** @param periodMs The time between sweeps (`PARLEY_HEARTBEAT_MS`). */
  constructor(readonly periodMs: number, now: number = performance.now()) {
    this.#previous = now;
  }

  /** Pings the quiet among `connections`, hands the dead to `onDead`. */
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
        // A ping is not traffic that spares the next one: an idle socket gets one each period.
        connection.sentSinceBeat = false;
      }
    }
  }
}

/**
 * The heartbeat of one hub's connections (open and welcomed ones); its timer
 * keeps no process alive.
 *
 * @example
 * ```ts ignore
 * const heartbeat = new Heartbeat(registry, (connection) => sessions.suspend(connection), limits);
 * heartbeat.stop();
 * ```
 */
export class Heartbeat {
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #sweep: HeartbeatSweep;

  constructor(
    private readonly registry: Registry,
    /** Keeps a silent connection for its client to resume (see `Sessions.suspend`). */
    private readonly suspend: (connection: Connection) => void,
    limits: Pick<Limits, "heartbeatMs">,
  ) {
    this.#sweep = new HeartbeatSweep(limits.heartbeatMs);
    this.#timer = setInterval(() => this.beat(), limits.heartbeatMs);
    Deno.unrefTimer(Number(this.#timer));
  }

  /** One sweep: pings the quiet connections, suspends those that left a ping unanswered. */
  beat(now: number = performance.now()): void {
    const open = [...this.registry.all()].filter((connection) =>
      connection.state === ConnectionState.Open && connection.welcomed
    );
    this.#sweep.beat(open, (connection) => {
      // Silent: its socket is likely dead. Its client may still resume it.
      try {
        connection.socket.close(
          CLOSE.heartbeatTimeout,
          "Heartbeat timeout: a ping went unanswered",
        );
      } catch {
        // Already closing.
      }
      this.suspend(connection);
    }, now);
  }

  /** Stops the pings. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
