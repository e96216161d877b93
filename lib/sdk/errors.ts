/**
 * The error every SDK promise rejects with: `{ name, code, message }`, as
 * the contract says, with typed factories for the common cases.
 *
 * @module
 */
import type { ErrorCode, WireError } from "../protocol/mod.ts";

/**
 * An SDK failure. Branch on `code`.
 *
 * @example
 * ```ts ignore
 * try {
 *   await skapi.postRealtime("hi", "lobby");
 * } catch (error) {
 *   if (error instanceof RealtimeError && error.code === "RATE_LIMITED") await later();
 * }
 * ```
 */
export class RealtimeError extends Error implements WireError {
  override name = "RealtimeError";

  constructor(readonly code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }

  /** The error a server `error` frame describes. */
  static fromWire(error: WireError): RealtimeError {
    return new RealtimeError(error.code, error.message);
  }

  /** There is no open connection to send on. */
  static notConnected(what: string): RealtimeError {
    return new RealtimeError(
      "NOT_CONNECTED",
      `Cannot ${what} as the realtime connection is not open: call connectRealtime() first`,
    );
  }

  /** No answer came within `ms`. */
  static timeout(what: string, ms: number): RealtimeError {
    return new RealtimeError("TIMEOUT", `Cannot ${what} as no answer came within ${ms} ms`);
  }

  /** The connection closed before an answer came. */
  static cancelled(what: string): RealtimeError {
    return new RealtimeError(
      "CANCELLED",
      `Cannot ${what} as the connection closed before the server answered`,
    );
  }

  /** A bad argument, refused before anything is sent. */
  static invalidParameter(message: string, cause?: unknown): RealtimeError {
    return new RealtimeError("INVALID_PARAMETER", message, { cause });
  }
}
