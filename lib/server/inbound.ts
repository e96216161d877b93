/**
 * The way in of every frame a client sends on an open connection: the rate
 * limit, the protocol's parser (the one gate), then the request's handler in
 * the connection's order, and its ack or typed error. Which socket a frame
 * came from, and what ends a connection, are the sessions' business
 * (sessions.ts): this only answers frames.
 *
 * @module
 */
import {
  CLOSE,
  errorCodeOf,
  type ErrorRef,
  errorRefOf,
  FrameTooLargeError,
  type Limits,
  parseClientFrame,
  type ParsedClientFrame,
  type ServerFrame,
} from "../protocol/mod.ts";
import type { Connection } from "./connection.ts";
import { handleRequest, type HubCore, RequestError } from "./requests.ts";

/** The pong of a v1 client, compared as text: it is the commonest frame of an idle socket. */
const PONG = '{"type":"pong"}';

/** Requests whose successors need not wait for their answer (see {@linkcode Inbound.receive}). */
const PIPELINED: ReadonlySet<string> = new Set(["post", "signal"]);

/** What {@linkcode Inbound} needs. */
export interface InboundOptions {
  /** The rate limit, the frame size and the rest of what the parser checks. */
  limits: Limits;
  /** What the request handlers work with (see `requests.ts`). */
  core: HubCore;
}

/**
 * The frames of this isolate's connections.
 *
 * @example Hand a socket's frames to it
 * ```ts ignore
 * const inbound = new Inbound({ limits, core });
 * socket.onmessage = (event) => {
 *   if (inbound.receive(connection, event.data)) sessions.drop(connection); // a goodbye
 * };
 * ```
 */
export class Inbound {
  readonly #limits: Limits;
  readonly #core: HubCore;

  constructor(options: InboundOptions) {
    this.#limits = options.limits;
    this.#core = options.core;
  }

  /**
   * Takes one frame of `connection`: counts it against the rate limit,
   * parses it, and runs a request after the connection's earlier ones,
   * answering it with an ack (but an unacked signal, v3) or a typed error. A frame over the rate limit
   * is refused (and too many in a row close the connection), one too large
   * closes it. Returns true when the client said goodbye: the caller ends
   * the connection (its socket is already closed).
   */
  receive(connection: Connection, data: unknown): boolean {
    const limits = this.#limits;
    connection.lastSeen = performance.now();
    if (data === PONG) return false;
    if (!connection.bucket.take()) {
      if (++connection.rejectedInARow > limits.maxRejectedInARow) {
        connection.close(CLOSE.policy, "Rate limit exceeded: slow down and reconnect");
        return false;
      }
      this.#error(
        connection,
        errorRefOf(data),
        new RequestError(
          "RATE_LIMITED",
          `Cannot accept more than ${limits.rateLimit} frames a second: wait and retry`,
        ),
      );
      return false;
    }
    connection.rejectedInARow = 0;
    let frame: ParsedClientFrame;
    try {
      frame = parseClientFrame(data, limits);
    } catch (error) {
      if (error instanceof FrameTooLargeError) connection.close(CLOSE.tooBig, error.message);
      else this.#error(connection, errorRefOf(data), error);
      return false;
    }
    if (frame.type === "pong") {
      if (frame.received !== undefined) connection.log.acknowledge(frame.received);
      return false;
    }
    if (frame.type === "bye") {
      connection.close(CLOSE.normal, "Goodbye");
      return true;
    }
    if (frame.type === "hello") {
      this.#error(
        connection,
        {},
        new RequestError(
          "INVALID_REQUEST",
          "Cannot take a hello now: it is only the first frame of a connection opened with hello=1",
        ),
      );
      return false;
    }
    const request = frame;
    connection.queue = connection.queue.then(() => {
      if (connection.closed) return;
      const answered = handleRequest(this.#core, connection, request).then(
        // A signal without id (v3) gets no ack: only its failure is answered.
        (result) => {
          if (request.id !== undefined) {
            connection.send({ type: "ack", id: request.id, result } as ServerFrame);
          }
        },
        (error) => this.#error(connection, errorRefOf(request), error),
      );
      // A post or signal has routed its frame (in order) before its handler's
      // first await: the next request need not wait for its count. Joins and
      // renames change what later requests see, so those are waited for.
      return PIPELINED.has(request.type) ? undefined : answered;
    });
    return false;
  }

  /**
   * Answers with a typed error naming what failed (`ref`: a request's id,
   * an unacked signal); logs only what is neither the client's fault nor known.
   */
  #error(connection: Connection, ref: ErrorRef, error: unknown): void {
    const known = error instanceof RequestError;
    if (
      !known &&
      !(error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError)
    ) {
      console.error("hub: request failed", error);
    }
    const code = known ? error.code : errorCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    connection.send({ type: "error", ...ref, code, message });
  }
}
