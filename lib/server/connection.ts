/**
 * One client's socket on this isolate: who it is, where it is, and how much
 * it may still send. Its routing (routing.ts) and its life (sessions.ts)
 * are elsewhere; this only holds state.
 *
 * @module
 */
import { type NoticeFrame, packNotices, type ServerFrame, type Stamp } from "../protocol/mod.ts";
import { noticeBatcher, noticesKey, type NoticeTexts } from "./notices.ts";
import type { Grant } from "./auth.ts";
import { randomId } from "./ids.ts";
import { ReplayLog } from "./replay.ts";
import { TokenBucket } from "./rate_limit.ts";

/** Who a connection is, as stored in presence and stamped on what it sends. */
export interface Identity {
  cid: string;
  user_id: string;
  name: string;
}

/** What a connection is allowed, and how it proved who it is. */
export interface Credentials {
  /** The access token's grant; null when the server runs without tokens. */
  grant?: Grant | null;
  /** The signed proof of an anonymous user_id, handed to the client in the welcome. */
  proof?: string;
}

/** What the hub needs of a socket; a `WebSocket` is one. */
export interface SocketLike {
  readonly readyState: number;
  /** Bytes sent but not yet taken by the network (a `WebSocket`'s); absent: not tracked. */
  readonly bufferedAmount?: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

/** The queue of a connection with nothing under way: one settled promise for all of them. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * The replay limits, one object per distinct pair: every connection of a hub
 * has the same, and need not carry its own copy.
 */
const replayLimits = new Map<string, { maxFrames: number; maxBytes: number }>();

function sharedReplayLimits(maxFrames: number, maxBytes: number) {
  const key = `${maxFrames}/${maxBytes}`;
  let limits = replayLimits.get(key);
  if (limits === undefined) replayLimits.set(key, limits = Object.freeze({ maxFrames, maxBytes }));
  return limits;
}

/** Where a connection is in its life. */
export enum ConnectionState {
  /** Its socket is open. */
  Open = "open",
  /** Its socket dropped; it waits (out of sight) for its client to resume it. */
  Suspended = "suspended",
  /** Gone for good: closed on purpose, kicked, or its grace ran out. */
  Closed = "closed",
}

/**
 * A connection of this isolate. Its socket may change: a client whose
 * socket dropped resumes the same connection on a new one.
 *
 * @example
 * ```ts ignore
 * const connection = new Connection(socket, { cid, user_id, name }, { rate: 50, burst: 100 });
 * connection.send({ type: "message", … });
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
  /** Whether its welcome has gone out: nothing else (not even a ping) may come first. */
  welcomed = false;
  /** Whether a frame went out since the last heartbeat sweep (see `heartbeat.ts`). */
  sentSinceBeat = false;
  /** The heartbeat sweep that last pinged it (see `heartbeat.ts`). */
  pingedInBeat = -1;
  /** Frames refused in a row by the rate limit. */
  rejectedInARow = 0;
  readonly bucket: TokenBucket;
  /** The secret its client resumes this connection with after a drop. */
  readonly session: string;
  /** What was sent and may have to be sent again after a resume. */
  readonly log: ReplayLog;
  /** Frames of this connection are handled one after another, in order. */
  queue: Promise<void> = SETTLED;
  /** Ends a suspension that is not resumed in time. */
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** The protocol version its client speaks (its URL's `v`; the welcome echoes it). */
  protocol = 1;
  /** Whether its client reads `notices` frames (protocol v2): notices then go out per tick. */
  get batchNotices(): boolean {
    return this.protocol >= 2;
  }
  /** Notices of this tick not yet sent, with their text. */
  #notices: Array<[NoticeFrame, string]> | null = null;
  /** The access token's grant (rooms, expiry); null without tokens. Replaced by an `auth` request. */
  grant: Grant | null;
  /** The proof of an anonymous user_id (see `identity.ts`). */
  proof: string | undefined;
  /** Closes the connection when its access token expires. */
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Called once more than `maxBufferedBytes` is queued on the socket (its
   * client reads too slowly); the sessions suspend the connection.
   */
  onBackedUp: (() => void) | undefined;
  readonly #maxBufferedBytes: number;
  #state = ConnectionState.Open;
  #socket: SocketLike;

  constructor(
    socket: SocketLike,
    identity: Identity & Credentials & { session?: string },
    limits: {
      rate: number;
      burst: number;
      replayFrames: number;
      replayBytes: number;
      maxBufferedBytes?: number;
    },
  ) {
    this.#maxBufferedBytes = limits.maxBufferedBytes ?? Infinity;
    this.grant = identity.grant ?? null;
    this.proof = identity.proof;
    this.#socket = socket;
    this.cid = identity.cid;
    this.user_id = identity.user_id;
    this.name = identity.name;
    this.session = identity.session ?? randomId(16);
    this.bucket = new TokenBucket(limits.rate, limits.burst);
    this.log = new ReplayLog(sharedReplayLimits(limits.replayFrames, limits.replayBytes));
  }

  /** The sender fields the server stamps on what this connection sends. */
  get stamp(): Stamp {
    return { sender: this.user_id, sender_cid: this.cid, name: this.name };
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The current socket. */
  get socket(): SocketLike {
    return this.#socket;
  }

  /** Whether it is gone for good. */
  get closed(): boolean {
    return this.#state === ConnectionState.Closed;
  }

  /** Sends a frame the client counts (see {@linkcode ReplayLog}). */
  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /**
   * Sends an already serialised, counted frame (one `JSON.stringify` per
   * broadcast). While suspended it is only kept, for the resume.
   */
  sendText(text: string): void {
    if (this.#state === ConnectionState.Closed) return;
    // Notices queued this tick came first: they keep their place.
    if (this.#notices !== null) this.flushNotices();
    this.#record(text);
  }

  #record(text: string): void {
    this.log.record(text);
    if (this.#state === ConnectionState.Open) this.sendUncounted(text);
  }

  /**
   * Sends a notice (`text` is its JSON): at once to a v1 client; to a v2
   * client with the other notices of this tick, in one frame.
   */
  sendNotice(frame: NoticeFrame, text: string): void {
    if (!this.batchNotices) return this.sendText(text);
    if (this.#state === ConnectionState.Closed) return;
    if (this.#notices === null) {
      this.#notices = [];
      noticeBatcher.hold(this);
    }
    this.#notices.push([frame, text]);
  }

  /**
   * Sends the notices queued this tick: one alone as it is, several as one
   * `notices` frame (its text shared through `texts` with the connections
   * that got the same notices).
   */
  flushNotices(texts?: NoticeTexts): void {
    const notices = this.#notices;
    if (notices === null) return;
    this.#notices = null;
    if (this.#state === ConnectionState.Closed) return;
    if (notices.length === 1) return this.#record(notices[0][1]);
    const frames = notices.map(([frame]) => frame);
    const key = noticesKey(frames);
    let text = texts?.get(key);
    if (text === undefined) {
      text = JSON.stringify(packNotices(frames));
      texts?.set(key, text);
    }
    this.#record(text);
  }

  /**
   * Sends a frame the client does not count: pings, welcomes, replays. Past
   * `maxBufferedBytes` queued on the socket, calls {@linkcode onBackedUp}:
   * one slow reader must not hold more than that (plus its log) in memory.
   */
  sendUncounted(text: string): void {
    const socket = this.#socket;
    if (socket.readyState !== OPEN) return;
    try {
      socket.send(text);
    } catch {
      // The socket closed between the check and the send; its close event handles it.
      return;
    }
    this.sentSinceBeat = true;
    if ((socket.bufferedAmount ?? 0) > this.#maxBufferedBytes) this.onBackedUp?.();
  }

  /** The socket dropped without a goodbye: keep everything, wait for a resume. */
  suspend(): void {
    if (this.#state === ConnectionState.Open) this.#state = ConnectionState.Suspended;
  }

  /** Continues on `socket`; the old one, if still open, is closed quietly. */
  resume(socket: SocketLike): void {
    const old = this.#socket;
    this.#socket = socket;
    this.#state = ConnectionState.Open;
    this.lastSeen = performance.now();
    clearTimeout(this.graceTimer);
    if (old !== socket && old.readyState <= OPEN) {
      try {
        old.close(1000, "Resumed on another socket");
      } catch {
        // Already closing.
      }
    }
  }

  /** Ends the connection for good, closing its socket once. Idempotent. */
  close(code: number, reason: string): void {
    if (this.#state === ConnectionState.Closed) return;
    this.#state = ConnectionState.Closed;
    clearTimeout(this.graceTimer);
    clearTimeout(this.expiryTimer);
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }
}
