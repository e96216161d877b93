/**
 * The one way tests wait for something: poll a predicate until it holds,
 * with a deadline that also bounds a predicate that hangs; or a plain
 * {@linkcode sleep}.
 *
 * @example
 * ```ts
 * import { waitFor } from "./wait.ts";
 * let n = 0;
 * const done = await waitFor(() => ++n >= 3 && n, { interval: 1, message: "three tries" });
 * ```
 *
 * @module
 */

/**
 * Resolves after `ms` (at once for a negative one).
 *
 * @example
 * ```ts
 * import { sleep } from "./wait.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5 000). */
  timeout?: number;
  /** Pause between tries in ms (default 50). */
  interval?: number;
  /** Says what was awaited, in the timeout error. */
  message?: string;
}

/** `T` without its falsy members. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/**
 * Call `predicate` until it returns a truthy value (or a promise of one), and
 * resolve with that value. Rejects after `timeout` ms, even if a call hangs;
 * the error names `message` and the last error the predicate threw. Leaves no
 * timer behind either way.
 *
 * @example
 * ```ts ignore
 * const body = await waitFor(async () => (await fetch(url)).ok && "up", { timeout: 10_000 });
 * ```
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Truthy<T>> {
  const { timeout = 5_000, interval = 50, message = "condition" } = options;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sleep = (ms: number) =>
    new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
    });
  try {
    while (true) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const attempt = Promise.resolve().then(predicate).then(
        (value) => ({ value }),
        (error) => {
          lastError = error;
          return { value: undefined };
        },
      );
      const result = await Promise.race([attempt, sleep(remaining)]);
      clearTimeout(timer);
      if (result === TIMED_OUT) break;
      if (result.value) return result.value as Truthy<T>;
      if (deadline - Date.now() <= 0) break;
      await sleep(Math.min(interval, deadline - Date.now()));
    }
  } finally {
    clearTimeout(timer);
  }
  const cause = lastError === undefined
    ? ""
    : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`waitFor: timed out after ${timeout} ms waiting for ${message}${cause}`, {
    cause: lastError,
  });
}
const TIMED_OUT = Symbol("timed out");
