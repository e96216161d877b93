/**
 * How long the SDK waits before giving up, in milliseconds.
 *
 * @example
 * ```ts
 * import { DEFAULT_TIMEOUTS } from "./defaults.ts";
 * console.log(DEFAULT_TIMEOUTS.request); // 10000
 * ```
 */
export const DEFAULT_TIMEOUTS = {
  /** From opening the socket to the server's welcome. */
  connect: 15_000,
  /** From sending a request to its ack or error. */
  request: 10_000,
  /** From ringing to the callee's answer. */
  ring: 30_000,
  /**
   * From the callee's accepting to the call's first connected network path
   * (ICE restarts included); past it the call ends on both sides with
   * `ICE_FAILED`. With `ring`'s signalling round trips this keeps the
   * caller's wait after accepting under 45 s.
   */
  ice: 30_000,
  /** First wait before reconnecting; doubles each attempt. */
  reconnectBase: 500,
  /**
   * Longest wait between reconnect attempts: short enough that clients are
   * back within 5 s of a restarted server coming up.
   */
  reconnectMax: 4_000,
} as const;

/** Timeouts a client may override. */
export type Timeouts = { -readonly [K in keyof typeof DEFAULT_TIMEOUTS]: number };
