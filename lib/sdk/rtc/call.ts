// Over 300 lines: one call's state machine, from ring to the last event, reads best in one place.
/**
 * One call, from ring to hang-up, with its own state machine: its peer
 * connection, negotiation, ICE watchdog, channels and media live and die
 * with it. Its `connection` promise always settles.
 *
 * @module
 */
import type {
  CallSignal,
  ChannelSpec,
  HangupCode,
  Signal,
  SignalKind,
} from "../../protocol/mod.ts";
import { RealtimeError } from "../errors.ts";
import { DEFAULT_CHANNEL, openChannels } from "./channels.ts";
import { resolveIce } from "./ice.ts";
import { acquireMedia, type CallMedia, mediaKinds, releaseMedia } from "./media.ts";
import { Negotiation, type OutSignal } from "./negotiation.ts";
import { closedEvent, forwardPeerEvents, shielded } from "./peer_events.ts";
import { IceWatchdog } from "./restart.ts";
import {
  type AcceptRTCParams,
  CallState,
  type RTCCallback,
  type RtcClosedCode,
  type RTCConnection,
  type RtcEnvironment,
} from "./types.ts";

/**
 * Who ended a call: this side (no `rtc:closed`), the other side (`code`
 * null), or nobody (`code` says what happened).
 */
export type Ending = { by: "local" } | { by: "remote" } | { by: "none"; code: RtcClosedCode };

/**
 * How often a ringing caller checks that the callee is still connected (its
 * repeated ring, which the callee ignores, is answered NOT_FOUND once it is gone).
 *
 * @example
 * ```ts
 * import { RING_PROBE_MS } from "./call.ts";
 * console.log(RING_PROBE_MS); // 1000
 * ```
 */
export const RING_PROBE_MS = 1_000;

const LOCAL: Ending = { by: "local" };
const REMOTE: Ending = { by: "remote" };
const ending = (code: RtcClosedCode): Ending => ({ by: "none", code });

/** What a call needs from its registry. */
export interface CallContext {
  /** This connection's cid. */
  localCid(): string;
  /**
   * Relays a signal to `to`; rejects with the server's error, or resolves
   * once sent when the signal is unacked (its failure then comes to
   * {@linkcode Call.signalFailed} from the registry).
   */
  send(to: string, signal: Signal): Promise<unknown>;
  /** The realtime endpoint, to find `/api/ice`. */
  realtimeUrl: string;
  /** The access token, sent to `/api/ice`. */
  token?: string;
  env: RtcEnvironment;
  timeouts: { ring: number; ice: number };
  /** The call ended; `message` says why, `how` who ended it. */
  onClosed(call: Call, message: string, how: Ending): void;
}

/** Who is on the other end. */
export interface Peer {
  cid: string;
  user_id: string;
  name: string;
  rid: string | null;
}

/** Which end of the call this side is. */
export enum CallRole {
  Caller = "caller",
  Callee = "callee",
}

const NEXT: Record<CallState, CallState[]> = {
  [CallState.Preparing]: [CallState.Ringing, CallState.Active, CallState.Closed],
  [CallState.Ringing]: [CallState.Preparing, CallState.Active, CallState.Closed],
  [CallState.Active]: [CallState.Closed],
  [CallState.Closed]: [],
};

/** One call. Made by the registry (`calls.ts`), not by apps. @internal */
export class Call {
  #state = CallState.Preparing;
  #specs: ChannelSpec[];
  #media: CallMedia = { stream: null, owned: false };
  #config: RTCConfiguration = {};
  #emit: RTCCallback = () => {};
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** While ringing out: re-sends the ring, so a callee that is gone is noticed at once (NOT_FOUND). */
  #probe: ReturnType<typeof setInterval> | undefined;
  #cleanups: (() => void)[] = [];
  /** Tells the app `close` for each data channel, once the peer connection is closed. */
  #closeChannels: () => void = () => {};
  #pc: RTCPeerConnection | null = null;
  #settle!: (connection: RTCConnection | null) => void;
  /** Resolves to the connection once active; null when the call ends first. */
  readonly connection: Promise<RTCConnection | null>;
  /** Set when a crossing ring turned this outgoing call into the answer of the other. */
  #adopted = false;
  /** What the caller announced it sends (callee side). */
  announced = { audio: false, video: false };
  negotiation: Negotiation | null = null;
  watchdog: IceWatchdog | null = null;

  constructor(
    readonly ctx: CallContext,
    public id: string,
    public role: CallRole,
    readonly peer: Peer,
    specs: ChannelSpec[],
  ) {
    this.#specs = specs;
    this.connection = new Promise((resolve) => (this.#settle = resolve));
  }

  /** The call's state. */
  get state(): CallState {
    return this.#state;
  }

  /** The peer connection, once active. */
  get pc(): RTCPeerConnection | null {
    return this.#pc;
  }

  #setState(state: CallState): boolean {
    if (!NEXT[this.#state].includes(state)) return false;
    this.#state = state;
    return true;
  }

  #arm(ms: number, message: string, notify: "hangup" | false, how: Ending): void {
    clearTimeout(this.#timer);
    // An ICE failure's wording is worth the other side's hearing; a timeout's is not.
    const told = how.by === "none" && how.code === "ICE_FAILED" ? message : undefined;
    this.#timer = setTimeout(() => this.end(message, notify, how, told), ms);
  }

  /** Gets media and ICE servers ready; releases both if either fails. */
  async prepare(params: AcceptRTCParams, callback?: RTCCallback): Promise<void> {
    this.#emit = shielded(callback);
    const [media, config] = await Promise.allSettled([
      acquireMedia(params.media, this.ctx.env),
      resolveIce(params.ice, this.ctx.realtimeUrl, this.ctx.env.fetch, undefined, this.ctx.token),
    ]);
    if (media.status === "fulfilled") this.#media = media.value;
    if (config.status === "fulfilled") this.#config = config.value;
    const failed = media.status === "rejected"
      ? media
      : config.status === "rejected"
      ? config
      : null;
    if (failed || this.#state === CallState.Closed) {
      releaseMedia(this.#media);
      if (failed) throw failed.reason;
    }
  }

  /** After `prepare`: rings the callee, or answers a crossing ring it adopted. */
  start(): void {
    if (this.#state !== CallState.Preparing) return;
    if (this.#adopted) return void this.#answer();
    this.#setState(CallState.Ringing);
    const seconds = Math.round(this.ctx.timeouts.ring / 1000);
    this.#arm(
      this.ctx.timeouts.ring,
      `No answer within ${seconds} s.`,
      "hangup",
      ending("TIMEOUT"),
    );
    const ring: Omit<CallSignal, "call"> = {
      kind: "call",
      media: mediaKinds(this.#media.stream ?? false),
      channels: this.#specs,
    };
    this.#send(ring, (result) => {
      const named = (result as { user_id?: unknown } | undefined)?.user_id;
      if (typeof named === "string" && !this.peer.user_id) this.peer.user_id = named;
    });
    // A repeated ring is ignored by the callee; the server answers NOT_FOUND
    // once the callee's connection is gone, which ends the ring then and there.
    this.#probe = setInterval(() => {
      if (this.#state === CallState.Ringing) this.#send(ring);
    }, RING_PROBE_MS);
  }

  /**
   * Turns this outgoing call into the answer of the crossing ring `signal`
   * (both sides called each other; the registry's rule chose theirs).
   */
  adopt(signal: CallSignal): void {
    clearTimeout(this.#timer);
    clearInterval(this.#probe);
    this.id = signal.call;
    this.role = CallRole.Callee;
    this.#specs = signal.channels ?? [DEFAULT_CHANNEL];
    this.#adopted = true;
    if (this.#state === CallState.Ringing) {
      this.#setState(CallState.Preparing);
      this.#answer();
    }
  }

  /** Callee: the app accepts. Idempotent; resolves like `connection`. */
  async accept(
    params: AcceptRTCParams = {},
    callback?: RTCCallback,
  ): Promise<RTCConnection | null> {
    if (this.role !== CallRole.Callee || !this.#setState(CallState.Preparing)) {
      return this.connection;
    }
    try {
      await this.prepare(params ?? {}, callback);
    } catch (error) {
      this.end(
        `The call could not be accepted: ${(error as Error)?.message ?? error}`,
        "hangup",
        LOCAL,
      );
      throw error;
    }
    this.#answer();
    return this.connection;
  }

  /** Callee: rings on this side until the caller's ring would have timed out. */
  ringIn(signal: CallSignal): void {
    this.announced = signal.media ?? { audio: false, video: false };
    this.#specs = signal.channels ?? [DEFAULT_CHANNEL];
    this.#setState(CallState.Ringing);
    this.#arm(
      this.ctx.timeouts.ring + 5_000,
      "The call was not answered.",
      false,
      ending("TIMEOUT"),
    );
  }

  #answer(): void {
    if (this.#state !== CallState.Preparing) return;
    this.#activate(false);
    this.#send({ kind: "accept" });
  }

  #activate(offerFirst: boolean): void {
    if (!this.#setState(CallState.Active)) return;
    clearInterval(this.#probe);
    const Peer = this.ctx.env.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    if (typeof Peer !== "function") {
      return this.end("This environment has no RTCPeerConnection: inject one.", "hangup", LOCAL);
    }
    const pc = this.#pc = new Peer(this.#config);
    this.#cleanups.push(forwardPeerEvents(pc, this.#emit));
    const stream = this.#media.stream;
    for (const track of stream?.getTracks() ?? []) pc.addTrack(track, stream!);
    const { channels, stop, closeAll } = openChannels(pc, this.#specs, this.#emit);
    this.#cleanups.push(stop);
    this.#closeChannels = closeAll;
    this.negotiation = new Negotiation(pc, {
      polite: this.ctx.localCid() > this.peer.cid,
      offerFirst,
      send: (signal) => this.#send(signal),
      onError: (what, error) => console.warn(`parley: cannot ${what} (call ${this.id})`, error),
    });
    this.watchdog = new IceWatchdog(pc, {
      onGiveUp: (reason) => this.end(reason, "hangup", ending("ICE_FAILED"), reason),
    });
    const connected = () => {
      if (pc.connectionState === "connected") clearTimeout(this.#timer);
    };
    pc.addEventListener("connectionstatechange", connected);
    this.#cleanups.push(() => pc.removeEventListener("connectionstatechange", connected));
    const seconds = Math.round(this.ctx.timeouts.ice / 1000);
    this.#arm(
      this.ctx.timeouts.ice,
      `The two networks could not reach each other: no connection within ${seconds} s.`,
      "hangup",
      ending("ICE_FAILED"),
    );
    this.#settle({ target: pc, channels, media: stream, hangup: () => this.hangup() });
  }

  /** A signal of this call from the peer. */
  onSignal(signal: Signal): void {
    switch (signal.kind) {
      case "accept":
        if (this.role === CallRole.Caller && this.#state === CallState.Ringing) {
          this.#activate(true);
        }
        return;
      case "reject":
        return this.end(signal.reason ?? "The call was rejected.", false, REMOTE);
      case "hangup": {
        const ringing = this.#state !== CallState.Active;
        const text = ringing ? "The caller cancelled the call." : "The other side hung up.";
        // A hang-up with a code is not a person's: nobody hung up (both sides say why).
        const how = signal.code ? ending(signal.code) : REMOTE;
        return this.end(signal.reason ? `${text} (${signal.reason})` : text, false, how);
      }
      case "description":
      case "candidate":
        void this.negotiation?.receive(signal);
        return;
    }
  }

  /** Ends the call from this side: rejects, cancels or hangs up. */
  hangup(): Promise<void> {
    if (this.#state === CallState.Closed) return Promise.resolve();
    const rejecting = this.role === CallRole.Callee && this.#state === CallState.Ringing;
    if (rejecting) this.end("You rejected the call.", "reject", LOCAL);
    else if (this.#state === CallState.Active) this.end("You hung up.", "hangup", LOCAL);
    else this.end("You cancelled the call.", "hangup", LOCAL);
    return Promise.resolve();
  }

  /** The other side's connection is gone (it left, or the server cannot reach it). */
  peerGone(): void {
    this.end("The other side is not connected.", false, ending("NOT_FOUND"));
  }

  /**
   * Ends the call (idempotent), telling the peer with `notify` — and `reason`,
   * when there is one worth its hearing (not this side's own wording), and
   * the code both sides know when it is not a person's choice (ICE_FAILED) —
   * and settles everything. The callback's last event is
   * `connectionstatechange: closed`; the registry tells the app `rtc:closed`
   * unless this side ended it.
   */
  end(message: string, notify: "hangup" | "reject" | false, how: Ending, reason?: string): void {
    const code: HangupCode | undefined = how.by === "none" && how.code === "ICE_FAILED"
      ? how.code
      : undefined;
    if (!this.#setState(CallState.Closed)) return;
    clearTimeout(this.#timer);
    clearInterval(this.#probe);
    if (notify === "reject") this.#send({ kind: "reject" });
    else if (notify === "hangup") {
      this.#send({
        kind: "hangup",
        ...(reason ? { reason: reason.slice(0, 200) } : {}),
        ...(code ? { code } : {}),
      });
    }
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.negotiation?.close();
    this.watchdog?.stop();
    try {
      this.#pc?.close();
    } catch { /* already closed */ }
    releaseMedia(this.#media);
    this.#settle(null);
    this.#closeChannels();
    this.#emit(closedEvent(this.#pc));
    this.ctx.onClosed(this, message, how);
  }

  #send(signal: OutSignal, acked?: (result: unknown) => void): void {
    this.ctx.send(this.peer.cid, { ...signal, call: this.id } as Signal).then(
      acked,
      (error) => this.signalFailed(signal.kind, error),
    );
  }

  /**
   * A signal of this call could not be relayed: the peer being gone ends
   * the call (`NOT_FOUND`); anything else is logged. Nothing after the end:
   * the last hang-up or reject may well find nobody.
   */
  signalFailed(kind: SignalKind, error: unknown): void {
    if (this.#state === CallState.Closed) return;
    if (error instanceof RealtimeError && error.code === "NOT_FOUND") this.peerGone();
    else console.warn(`parley: cannot send the ${kind} signal (call ${this.id})`, error);
  }
}
