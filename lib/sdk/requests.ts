/**
 * Requests in flight: each has an id, and settles exactly once — on its
 * ack, its error, its timeout, or the connection's end. One timer serves
 * them all: it fires at the earliest deadline, fails what is due, and is
 * set again for the next (a timer per request would cost a timer set and
 * cleared for every post). When the last answer comes the timer is not
 * cleared but unreferenced: the next request, often a moment later (a
 * client that waits for each post's ack before the next has one in flight
 * at a time), finds it still set and touches no timer; with nothing to wait
 * for it neither keeps a process alive nor fails a test's op sanitizer.
 *
 * @module
 */
import type { AckFrame, ErrorFrame } from "../protocol/mod.ts";
import { RealtimeError } from "./errors.ts";

interface Pending {
  resolve: (result: never) => void;
  reject: (error: RealtimeError) => void;
  /** When it times out, on `performance.now()`'s clock. */
  deadline: number;
  timeout: number;
  what: string;
}

/**
 * The requests a connection is waiting on.
 *
 * @example
 * ```ts ignore
 * const pending = new PendingRequests();
 * const result = pending.track(7, "join the group", 10_000, () => socket.send(frame));
 * pending.settle({ type: "ack", id: 7, result: { group: "g" } }); // resolves it
 * ```
 */
export class PendingRequests {
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires; Infinity when none is set. */
  #timerAt = Infinity;

  /** A fresh request id. */
  nextId(): number {
    return this.#nextId++;
  }

  /** How many requests are waiting for their answer. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Waits for request `id`'s answer, at most `timeout` ms. `send` sends it;
   * when it returns false (no open socket) or throws, the request fails at once.
   */
  track<T>(id: number, what: string, timeout: number, send: () => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + timeout;
      this.#pending.set(id, { resolve, reject, deadline, timeout, what } as Pending);
      let sent: boolean;
      try {
        sent = send();
      } catch (error) {
        // Failed before it left: nothing will answer it, so nothing waits.
        this.#pending.delete(id);
        return reject(error);
      }
      if (!sent) {
        this.#pending.delete(id);
        return reject(RealtimeError.notConnected(what));
      }
      // Requests of one timeout come in deadline order: the timer set for
      // the first still serves them, so most tracks touch no timer.
      if (deadline < this.#timerAt) this.#arm(deadline);
      else if (this.#pending.size === 1) holdOpen(this.#timer, true);
    });
  }

  /** Sets the one timer for `deadline`, replacing a later one. */
  #arm(deadline: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
  }

  /** Fails every request whose deadline has passed; sets the timer for the next. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, pending] of this.#pending) {
      if (pending.deadline <= now) {
        this.#pending.delete(id);
        pending.reject(RealtimeError.timeout(pending.what, pending.timeout));
      } else if (pending.deadline < next) next = pending.deadline;
    }
    if (next < Infinity) this.#arm(next);
  }

  /**
   * Nothing left to wait for: the timer stays set for the next request but
   * no longer keeps a process alive (where timers cannot be unreferenced, a
   * browser's, it fires once more and finds nothing).
   */
  #idle(): void {
    if (this.#pending.size === 0 && this.#timer !== undefined) holdOpen(this.#timer, false);
  }

  /** Stops the timer (the connection ended). */
  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Settles the request an ack or error answers; false if none waits for it. */
  settle(frame: AckFrame | ErrorFrame): boolean {
    const pending = frame.id === undefined ? undefined : this.#pending.get(frame.id);
    if (!pending) return false;
    this.#pending.delete(frame.id!);
    this.#idle();
    if (frame.type === "ack") pending.resolve(frame.result as never);
    else pending.reject(RealtimeError.fromWire(frame));
    return true;
  }

  /** Rejects every request in flight: the connection they were sent on is gone. */
  cancelAll(): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#stop();
    for (const pending of all) pending.reject(RealtimeError.cancelled(pending.what));
  }
}

type Timer = ReturnType<typeof setTimeout>;
type Unreferenced = { ref?: () => unknown; unref?: () => unknown };

/**
 * Whether `timer` keeps the process alive: Deno's and Node's timers can let
 * go of it (a Timeout's `ref`/`unref`, or `Deno.refTimer` for a numeric id);
 * a browser's cannot and need not.
 */
function holdOpen(timer: Timer | undefined, hold: boolean): void {
  if (timer === undefined) return;
  if (typeof timer === "object") {
    const handle = timer as unknown as Unreferenced;
    (hold ? handle.ref : handle.unref)?.call(handle);
    return;
  }
  const deno =
    (globalThis as { Deno?: { refTimer?(id: number): void; unrefTimer?(id: number): void } })
      .Deno;
  (hold ? deno?.refTimer : deno?.unrefTimer)?.(timer as number);
}
