/**
 * A small typed event emitter. A listener that throws is reported and
 * skipped: an app's bug never breaks the SDK's own state.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Callbacks = { [event: string]: (...args: any[]) => void };

/**
 * Emits events whose names and arguments come from a callback map.
 *
 * @example
 * ```ts
 * import { TypedEmitter } from "./emitter.ts";
 * const emitter = new TypedEmitter<{ tick: (n: number) => void }>();
 * emitter.on("tick", (n) => console.log(n));
 * emitter.emit("tick", 1);
 * ```
 */
export class TypedEmitter<T extends Callbacks> {
  /**
   * Each event's listeners, in the order added. An array is never changed,
   * only replaced: `emit` walks the one it found without copying it (events
   * outnumber `on`/`off` by far), and a listener added or removed meanwhile
   * takes effect from the next emit.
   */
  #listeners = new Map<keyof T, readonly T[keyof T][]>();

  /** Calls `listener` on each `event`; returns a function that stops it. */
  on<E extends keyof T>(event: E, listener: T[E]): () => void {
    const list = this.#listeners.get(event) ?? [];
    if (!list.includes(listener)) this.#listeners.set(event, [...list, listener]);
    return () => this.off(event, listener);
  }

  /** Stops calling `listener`. */
  off<E extends keyof T>(event: E, listener: T[E]): void {
    const list = this.#listeners.get(event);
    if (!list?.includes(listener)) return;
    if (list.length === 1) this.#listeners.delete(event);
    else this.#listeners.set(event, list.filter((other) => other !== listener));
  }

  /** Calls every listener of `event`, each shielded from the others' errors. */
  emit<E extends keyof T>(event: E, ...args: Parameters<T[E]>): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i](...args);
      } catch (error) {
        console.error(`parley: a "${String(event)}" listener threw`, error);
      }
    }
  }
}
