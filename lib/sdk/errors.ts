/**
 * The error every SDK promise rejects with: `{ name, code, message }`, as
 * the contract says, with typed factories for the common cases.
 *
 * @module
 */
import { CLOSE, type ErrorCode, PROTOCOL_VERSION, type WireError } from "../protocol/mod.ts";
import { SDK_VERSION } from "./version.ts";

/** What an HTTP status of a refused upgrade means, and what to do. */
const REFUSALS: Record<string, { code: ErrorCode; why: string }> = {
  "401": {
    code: "UNAUTHORIZED",
    why: "the access token is missing, invalid or expired: pass a valid 'token'",
  },
  "403": { code: "UNAUTHORIZED", why: "this page's origin is not allowed by the server" },
  "429": {
    code: "RATE_LIMITED",
    why:
      "this address has too many connections open, or opened too many in the last minute: wait and retry",
  },
};

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
  /** Always `"RealtimeError"`, as Skapi's errors carry a `name`. */
  override name = "RealtimeError";

  /**
   * An error with its `code` (one of `ERROR_CODES`) and a message saying
   * what to do; `options.cause` keeps the underlying failure.
   */
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

  /**
   * A connect attempt closed before the welcome. Deno's WebSocket names the
   * HTTP status of a refused upgrade in its error (`failure`); a browser's
   * only says 1006, so the message then lists the likely causes.
   */
  static refused(event: CloseEvent, failure: string, hasToken: boolean): RealtimeError {
    if (event.code === CLOSE.unsupportedVersion) {
      return RealtimeError.unsupportedVersion(`the server refused it: ${event.reason}`);
    }
    const status = failure.match(/status code:? (\d{3})/i)?.[1];
    const known = status ? REFUSALS[status] : undefined;
    if (known) {
      return new RealtimeError(
        known.code,
        `Cannot connect as the server refused (${status}): ${known.why}`,
      );
    }
    if (event.code === CLOSE.unauthorized) {
      return new RealtimeError(
        "UNAUTHORIZED",
        `Cannot connect as the server refused the credentials (${event.code}): ${event.reason}`,
      );
    }
    const why = event.reason ? `: ${event.reason}` : "";
    const hint = event.code === 1006
      ? hasToken
        ? "; the server may be unreachable, or have refused the access token (missing, invalid or expired) or this page's origin"
        : "; the server may be unreachable, or require an access token, or refuse this page's origin"
      : "";
    return RealtimeError.notConnected(`connect (closed with ${event.code}${why}${hint})`);
  }

  /**
   * The server speaks another protocol version: `why` says which (the
   * server's close reason, or the version its welcome announced).
   */
  static unsupportedVersion(why: string): RealtimeError {
    return new RealtimeError(
      "UNSUPPORTED_VERSION",
      `Cannot connect with this SDK (parley-sdk ${SDK_VERSION}, protocol v${PROTOCOL_VERSION}) as ${why}: use an SDK for the server's protocol, such as the server's own /sdk.js`,
    );
  }

  /** A bad argument, refused before anything is sent. */
  static invalidParameter(message: string, cause?: unknown): RealtimeError {
    return new RealtimeError("INVALID_PARAMETER", message, { cause });
  }
}
