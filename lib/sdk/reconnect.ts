/**
 * When to try again after a lost connection: capped exponential backoff
 * with jitter, and an immediate try when the browser says the network or
 * the tab is back.
 *
 * @module
 */

/**
 * The wait before attempt `attempt` (1, 2, …): between half and all of
 * `base · 2^(attempt-1)`, capped at `max`. The jitter keeps a crowd of
 * clients from reconnecting in lockstep after a server restart.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./reconnect.ts";
 * backoffDelay(1, 500, 10_000, () => 0); // 250
 * backoffDelay(9, 500, 10_000, () => 1); // 10000
 * ```
 */
export function backoffDelay(
  attempt: number,
  base: number,
  max: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  return ceiling / 2 + random() * ceiling / 2;
}

/** The page's window, or null outside a browser page (Deno has no document). */
function page(): Window | null {
  return "document" in globalThis ? globalThis as unknown as Window : null;
}

/**
 * Calls `wake` when the browser comes back online or the tab becomes
 * visible (outside browsers, never). Returns the function that stops it.
 *
 * @example
 * ```ts
 * import { onWakeUp } from "./reconnect.ts";
 * const stop = onWakeUp(() => console.log("try now"));
 * stop();
 * ```
 */
export function onWakeUp(wake: () => void): () => void {
  const target = page();
  if (!target) return () => {};
  const controller = new AbortController();
  const { signal } = controller;
  target.addEventListener("online", wake, { signal });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") wake();
  }, { signal });
  return () => controller.abort();
}

/**
 * Calls `leave` when the page is being unloaded (`pagehide`), so the others
 * see the departure at once instead of after a timeout. Returns the
 * function that stops it.
 *
 * @example
 * ```ts
 * import { onPageHide } from "./reconnect.ts";
 * const stop = onPageHide(() => console.log("bye"));
 * stop();
 * ```
 */
export function onPageHide(leave: () => void): () => void {
  const target = page();
  if (!target) return () => {};
  const controller = new AbortController();
  target.addEventListener("pagehide", leave, { signal: controller.signal });
  return () => controller.abort();
}
