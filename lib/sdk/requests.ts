/**
 * Requests in flight: each has an id, and settles exactly once — on its
 * ack, its error, its timeout, or the connection's end.
 *
 * @module
 */
import type { AckFrame, ErrorFrame } from "../protocol/mod.ts";
import { RealtimeError } from "./errors.ts";

interface Pending {
  resolve: (result: never) => void;
  reject: (error: RealtimeError) => void;
  timer: ReturnType<typeof setTimeout>;
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

  /** A fresh request id. */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Waits for request `id`'s answer, at most `timeout` ms. `send` sends it;
   * when it returns false (no open socket) the request fails at once.
   */
  track<T>(id: number, what: string, timeout: number, send: () => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(RealtimeError.timeout(what, timeout));
      }, timeout);
      this.#pending.set(id, { resolve, reject, timer, what } as Pending);
      if (!send()) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(RealtimeError.notConnected(what));
      }
    });
  }

  /** Settles the request an ack or error answers; false if none waits for it. */
  settle(frame: AckFrame | ErrorFrame): boolean {
    const pending = frame.id === undefined ? undefined : this.#pending.get(frame.id);
    if (!pending) return false;
    this.#pending.delete(frame.id!);
    clearTimeout(pending.timer);
    if (frame.type === "ack") pending.resolve(frame.result as never);
    else pending.reject(RealtimeError.fromWire(frame));
    return true;
  }

  /** Rejects every request in flight: the connection they were sent on is gone. */
  cancelAll(): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(RealtimeError.cancelled(pending.what));
    }
    this.#pending.clear();
  }
}
