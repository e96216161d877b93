/**
 * The calls of one client: listens to the signal frames the server relays,
 * routes each to its call by call id, shows new rings as `rtc:incoming`,
 * merges crossing rings into one call, and exposes `connectRTC` / `closeRTC`.
 *
 * @module
 */
import {
  type CallSignal,
  type HangupCode,
  isCid,
  type ServerFrame,
  type SignalFrame,
} from "../../protocol/mod.ts";
import { RealtimeError } from "../errors.ts";
import type { Signaling } from "../signaling.ts";
import { Call, type CallContext, CallRole, type Peer } from "./call.ts";
import { channelSpecs } from "./channels.ts";
import {
  type AcceptRTCParams,
  CallState,
  type CloseRTCParams,
  type ConnectRTCParams,
  type RTCCallback,
  type RtcClosedEvent,
  type RTCConnector,
  type RtcEnvironment,
  type RtcIncomingEvent,
} from "./types.ts";

/** What the registry tells its client. */
export interface CallsEvents {
  incoming: (event: RtcIncomingEvent) => void;
  closed: (event: RtcClosedEvent) => void;
}

/** Options of {@linkcode Calls}. */
export interface CallsOptions extends RtcEnvironment {
  /** The realtime endpoint (to find `/api/ice`). */
  url: string;
  /** The access token, sent to `/api/ice`. */
  token?: string;
}

/**
 * The call registry of one client.
 *
 * @example
 * ```ts ignore
 * const calls = new Calls(signaling, { url }, { incoming: (e) => e.hangup(), closed: console.log });
 * const { connection } = await calls.connectRTC({ cid: "cid:…", media: true }, console.log);
 * ```
 */
export class Calls {
  #calls = new Map<string, Call>();
  #ctx: CallContext;

  constructor(
    readonly signaling: Signaling,
    readonly options: CallsOptions,
    readonly events: CallsEvents,
  ) {
    this.#ctx = {
      localCid: () => signaling.welcome?.cid ?? "",
      send: (to, signal) =>
        signaling.request({ type: "signal", to, signal }, `send a ${signal.kind} signal`),
      realtimeUrl: options.url,
      // A getter: the token may be refreshed during the call (getToken).
      get token() {
        return options.token;
      },
      env: options,
      timeouts: signaling.timeouts,
      onClosed: (call, message, code) => this.#onClosed(call, message, code),
    };
    signaling.on("frame", (frame: ServerFrame) => {
      if (frame.type === "signal") this.#onSignal(frame);
    });
  }

  /** The calls that have not ended. */
  get calls(): Call[] {
    return [...this.#calls.values()];
  }

  #find(cid: string, role: CallRole, states: CallState[]): Call | undefined {
    return this.calls.find((c) =>
      c.peer.cid === cid && c.role === role && states.includes(c.state)
    );
  }

  #onSignal(frame: SignalFrame): void {
    const { signal } = frame;
    const call = this.#calls.get(signal.call);
    if (call) {
      if (call.peer.cid !== frame.sender_cid) return;
      if (!call.peer.user_id) Object.assign(call.peer, { user_id: frame.sender, name: frame.name });
      return call.onSignal(signal);
    }
    if (signal.kind !== "call") return; // a late signal of an ended call
    const peer: Peer = {
      cid: frame.sender_cid,
      user_id: frame.sender,
      name: frame.name,
      rid: frame.sender_rid,
    };
    const mine = this.#find(peer.cid, CallRole.Caller, [CallState.Preparing, CallState.Ringing]);
    if (mine) return this.#glare(mine, signal);
    this.#ring(peer, signal);
  }

  /**
   * Both sides called each other. The ring of the smaller cid wins: that side
   * ignores the other's ring, the other side answers it with its own call's
   * parameters. Whoever has not rung yet answers in any case.
   */
  #glare(mine: Call, theirs: CallSignal): void {
    const local = this.#ctx.localCid();
    if (mine.state === CallState.Ringing && local < mine.peer.cid) return;
    this.#calls.delete(mine.id);
    mine.adopt(theirs);
    this.#calls.set(mine.id, mine);
  }

  #ring(peer: Peer, signal: CallSignal): void {
    const call = new Call(this.#ctx, signal.call, CallRole.Callee, peer, []);
    this.#calls.set(call.id, call);
    call.ringIn(signal);
    this.events.incoming({
      type: "rtc:incoming",
      sender: peer.user_id,
      sender_cid: peer.cid,
      sender_rid: peer.rid,
      name: peer.name,
      media: { ...call.announced },
      connectRTC: (params?: AcceptRTCParams, callback?: RTCCallback) =>
        call.accept(params ?? {}, callback),
      hangup: () => call.hangup(),
    });
  }

  #onClosed(call: Call, message: string, code: HangupCode | null): void {
    if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
    this.events.closed({
      type: "rtc:closed",
      sender: call.peer.user_id,
      sender_cid: call.peer.cid,
      message,
      code,
    });
  }

  /**
   * Calls connection `params.cid`. Resolves once media and ICE servers are
   * ready and the ring is on its way; the connector's `connection` always
   * settles. Calling someone who is ringing this side accepts their call.
   *
   * @throws {RealtimeError} `INVALID_PARAMETER` for bad parameters, `NOT_CONNECTED`
   * without a realtime connection, `NOT_FOUND` when media or ICE servers cannot be had
   */
  async connectRTC(params: ConnectRTCParams, callback?: RTCCallback): Promise<RTCConnector> {
    const cid = params?.cid;
    if (!isCid(cid)) {
      throw RealtimeError.invalidParameter(
        `Cannot call as 'cid' must be a connection id ("cid:…"): current value is ${
          JSON.stringify(cid)
        }`,
      );
    }
    const specs = channelSpecs(params.channels);
    const local = this.signaling.welcome?.cid;
    if (!local) throw RealtimeError.notConnected("call");
    if (cid === local) {
      throw RealtimeError.invalidParameter("Cannot call as 'cid' is this connection");
    }
    const ringing = this.#find(cid, CallRole.Callee, [CallState.Ringing]);
    if (ringing) {
      const connection = ringing.accept(params, callback).catch(() => null);
      return { hangup: () => ringing.hangup(), connection };
    }
    const call = new Call(this.#ctx, newCallId(), CallRole.Caller, {
      cid,
      user_id: "",
      name: "",
      rid: null,
    }, specs);
    this.#calls.set(call.id, call);
    try {
      await call.prepare(params, callback);
    } catch (error) {
      this.#calls.delete(call.id);
      call.end(`The call could not start: ${(error as Error)?.message ?? error}`, false);
      throw error;
    }
    call.start();
    return { hangup: () => call.hangup(), connection: call.connection };
  }

  /** Ends the calls with `cid`, or every call. */
  async closeRTC(params: CloseRTCParams): Promise<void> {
    const all = (params as { close_all?: boolean })?.close_all === true;
    const cid = (params as { cid?: string })?.cid;
    if (!all && !isCid(cid)) {
      throw RealtimeError.invalidParameter(
        "Cannot close calls as the argument must be { cid } or { close_all: true }",
      );
    }
    await Promise.all(this.calls.filter((c) => all || c.peer.cid === cid).map((c) => c.hangup()));
  }
}

function newCallId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
