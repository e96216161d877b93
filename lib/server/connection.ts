/**
 * One client's socket on this isolate: who it is, where it is, and how much
 * it may still send. The hub owns the routing; this only holds state.
 *
 * @module
 */
import type { ServerFrame, Stamp } from "../protocol/mod.ts";
import { randomId } from "./ids.ts";
import { TokenBucket } from "./rate_limit.ts";

/** Who a connection is, as stored in presence and stamped on what it sends. */
export interface Identity {
  cid: string;
  user_id: string;
  name: string;
}

/** What the hub needs of a socket; a `WebSocket` is one. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

/**
 * A connection of this isolate.
 *
 * @example
 * ```ts ignore
 * const connection = new Connection(socket, { cid, user_id, name }, { rate: 50, burst: 100 });
 * connection.send({ type: "ping" });
 * ```
 */
export class Connection implements Identity {
  readonly cid: string;
  readonly user_id: string;
  name: string;
  /** The group this connection is in; at most one, as in Skapi. */
  group: string | null = null;
  /** When the last frame arrived (ms, `performance.now()`). */
  lastSeen = performance.now();
  /** Frames refused in a row by the rate limit. */
  rejectedInARow = 0;
  readonly bucket: TokenBucket;
  /** The secret its client resumes this connection with after a drop. */
  readonly session = randomId(16);
  /** Frames of this connection are handled one after another, in order. */
  queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    readonly socket: SocketLike,
    identity: Identity,
    rate: { rate: number; burst: number },
  ) {
    this.cid = identity.cid;
    this.user_id = identity.user_id;
    this.name = identity.name;
    this.bucket = new TokenBucket(rate.rate, rate.burst);
  }

  /** The sender fields the server stamps on what this connection sends. */
  get stamp(): Stamp {
    return { sender: this.user_id, sender_cid: this.cid, name: this.name };
  }

  /** Whether the socket is gone (closed by either side). */
  get closed(): boolean {
    return this.#closed || this.socket.readyState > OPEN;
  }

  /** Sends a frame; dropped silently when the socket is no longer open. */
  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Sends an already serialised frame (one `JSON.stringify` per broadcast). */
  sendText(text: string): void {
    if (this.socket.readyState !== OPEN) return;
    try {
      this.socket.send(text);
    } catch {
      // The socket closed between the check and the send; its close event cleans up.
    }
  }

  /** Closes the socket once; later calls do nothing. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }
}
