/**
 * One PeerJS peer of this isolate: its id, its socket (which a reconnect
 * with the same token replaces), its claim, and how much it may still send.
 *
 * @module
 */
import type { SocketLike } from "../connection.ts";
import { TokenBucket } from "../rate_limit.ts";
import type { PeerClaim } from "./claims.ts";

const OPEN = 1;

/** Options of {@linkcode PeerjsPeer}. */
export interface PeerjsPeerOptions {
  socket: SocketLike;
  claim: PeerClaim;
  /** The versionstamp of the claim's commit. */
  versionstamp: string;
  /** Frames per second on average (the hub's `rateLimit`). */
  rate: number;
  /** Frames in a burst (the hub's `rateBurst`). */
  burst: number;
  /** Bytes queued on its socket past which {@linkcode PeerjsPeer.onBackedUp} is called. @default Infinity */
  maxBufferedBytes?: number;
}

/**
 * A PeerJS peer connected here.
 *
 * @example
 * ```ts ignore
 * const peer = new PeerjsPeer("alice", { socket, claim, versionstamp, rate: 50, burst: 100 });
 * peer.sendText('{"type":"OPEN"}');
 * ```
 */
export class PeerjsPeer {
  socket: SocketLike;
  claim: PeerClaim;
  versionstamp: string;
  /** When the last frame arrived (ms, `performance.now()`). */
  lastSeen = performance.now();
  readonly bucket: TokenBucket;
  /** Removes this peer from the hub's registry (set once registered). */
  unregister: () => void = () => {};
  /** Called when more than `maxBufferedBytes` is queued on its socket (a slow reader). */
  onBackedUp: (() => void) | undefined;
  readonly #maxBufferedBytes: number;

  constructor(readonly id: string, options: PeerjsPeerOptions) {
    this.socket = options.socket;
    this.claim = options.claim;
    this.versionstamp = options.versionstamp;
    this.bucket = new TokenBucket(options.rate, options.burst);
    this.#maxBufferedBytes = options.maxBufferedBytes ?? Infinity;
  }

  /** The cid frames for this peer are routed to. */
  get cid(): string {
    return this.claim.cid;
  }

  /** Whether its socket is open. */
  get open(): boolean {
    return this.socket.readyState === OPEN;
  }

  /** Sends a frame's text; false when the socket is no longer open. */
  sendText(text: string): boolean {
    if (!this.open) return false;
    try {
      this.socket.send(text);
    } catch {
      return false; // closed under us
    }
    if ((this.socket.bufferedAmount ?? 0) > this.#maxBufferedBytes) this.onBackedUp?.();
    return true;
  }

  /** Closes its socket, if it is not closed already. */
  close(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }
}
