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
  #listeners = new Map<keyof T, Set<T[keyof T]>>();

  /** Calls `listener` on each `event`; returns a function that stops it. */
  on<E extends keyof T>(event: E, listener: T[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, set = new Set());
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Stops calling `listener`. */
  off<E extends keyof T>(event: E, listener: T[E]): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /** Calls every listener of `event`, each shielded from the others' errors. */
  emit<E extends keyof T>(event: E, ...args: Parameters<T[E]>): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`parley: a "${String(event)}" listener threw`, error);
      }
    }
  }
}
