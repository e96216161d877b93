/**
 * One call, from ring to hang-up, with its own state machine: its peer
 * connection, negotiation, ICE watchdog, channels and media live and die
 * with it. Its `connection` promise always settles.
 *
 * @module
 */
import type { CallSignal, ChannelSpec, HangupCode, Signal } from "../../protocol/mod.ts";
import { RealtimeError } from "../errors.ts";
import { DEFAULT_CHANNEL, openChannels } from "./channels.ts";
import { resolveIce } from "./ice.ts";
import { acquireMedia, type CallMedia, mediaKinds, releaseMedia } from "./media.ts";
import { Negotiation, type OutSignal } from "./negotiation.ts";
import { forwardPeerEvents, shielded } from "./peer_events.ts";
import { IceWatchdog } from "./restart.ts";
import {
  type AcceptRTCParams,
  CallState,
  type RTCCallback,
  type RTCConnection,
  type RtcEnvironment,
} from "./types.ts";

/** What a call needs from its registry. */
export interface CallContext {
  /** This connection's cid. */
  localCid(): string;
  /** Relays a signal to `to`; rejects with the server's error. */
  send(to: string, signal: Signal): Promise<unknown>;
  /** The realtime endpoint, to find `/api/ice`. */
  realtimeUrl: string;
  /** The access token, sent to `/api/ice`. */
  token?: string;
  env: RtcEnvironment;
  timeouts: { ring: number; ice: number };
  /** The call ended; `message` says why, `code` when it is one both sides know. */
  onClosed(call: Call, message: string, code: HangupCode | null): void;
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
  #cleanups: (() => void)[] = [];
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

  #arm(ms: number, message: string, notify: "hangup" | false, code?: HangupCode): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.end(message, notify, code && message, code), ms);
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
    this.#arm(this.ctx.timeouts.ring, `No answer within ${seconds} s.`, "hangup");
    const ring: Omit<CallSignal, "call"> = {
      kind: "call",
      media: mediaKinds(this.#media.stream ?? false),
      channels: this.#specs,
    };
    this.#send(ring);
  }

  /**
   * Turns this outgoing call into the answer of the crossing ring `signal`
   * (both sides called each other; the registry's rule chose theirs).
   */
  adopt(signal: CallSignal): void {
    clearTimeout(this.#timer);
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
      this.end(`The call could not be accepted: ${(error as Error)?.message ?? error}`, "hangup");
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
    this.#arm(this.ctx.timeouts.ring + 5_000, "The call was not answered.", false);
  }

  #answer(): void {
    if (this.#state !== CallState.Preparing) return;
    this.#activate(false);
    this.#send({ kind: "accept" });
  }

  #activate(offerFirst: boolean): void {
    if (!this.#setState(CallState.Active)) return;
    const Peer = this.ctx.env.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    if (typeof Peer !== "function") {
      return this.end("This environment has no RTCPeerConnection: inject one.", "hangup");
    }
    const pc = this.#pc = new Peer(this.#config);
    this.#cleanups.push(forwardPeerEvents(pc, this.#emit));
    const stream = this.#media.stream;
    for (const track of stream?.getTracks() ?? []) pc.addTrack(track, stream!);
    const { channels, stop } = openChannels(pc, this.#specs, this.#emit);
    this.#cleanups.push(stop);
    this.negotiation = new Negotiation(pc, {
      polite: this.ctx.localCid() > this.peer.cid,
      offerFirst,
      send: (signal) => this.#send(signal),
      onError: (what, error) => console.warn(`parley: cannot ${what} (call ${this.id})`, error),
    });
    this.watchdog = new IceWatchdog(pc, {
      onGiveUp: (reason) => this.end(reason, "hangup", reason, "ICE_FAILED"),
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
      "ICE_FAILED",
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
        return this.end(signal.reason ?? "The call was rejected.", false);
      case "hangup": {
        const ringing = this.#state !== CallState.Active;
        const text = ringing ? "The caller cancelled the call." : "The other side hung up.";
        return this.end(
          signal.reason ? `${text} (${signal.reason})` : text,
          false,
          undefined,
          signal.code,
        );
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
    if (rejecting) this.end("You rejected the call.", "reject");
    else if (this.#state === CallState.Active) this.end("You hung up.", "hangup");
    else this.end("You cancelled the call.", "hangup");
    return Promise.resolve();
  }

  /**
   * Ends the call (idempotent), telling the peer with `notify` — and `reason`,
   * when there is one worth its hearing (not this side's own wording), and
   * `code` when it is not a person's choice — and settles everything.
   */
  end(
    message: string,
    notify: "hangup" | "reject" | false,
    reason?: string,
    code?: HangupCode,
  ): void {
    if (!this.#setState(CallState.Closed)) return;
    clearTimeout(this.#timer);
    if (notify === "reject") this.#send({ kind: "reject" }, true);
    else if (notify === "hangup") {
      this.#send({
        kind: "hangup",
        ...(reason ? { reason: reason.slice(0, 200) } : {}),
        ...(code ? { code } : {}),
      }, true);
    }
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.negotiation?.close();
    this.watchdog?.stop();
    try {
      this.#pc?.close();
    } catch { /* already closed */ }
    releaseMedia(this.#media);
    this.#settle(null);
    this.ctx.onClosed(this, message, code ?? null);
  }

  #send(signal: OutSignal, final = false): void {
    this.ctx.send(this.peer.cid, { ...signal, call: this.id } as Signal).catch((error) => {
      if (final) return;
      if (error instanceof RealtimeError && error.code === "NOT_FOUND") {
        this.end("The other side is not connected.", false);
      } else {
        console.warn(`parley: cannot send the ${signal.kind} signal (call ${this.id})`, error);
      }
    });
  }
}
