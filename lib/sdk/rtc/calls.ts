/**
 * The calls of one client: listens to the signal frames the server relays,
 * routes each to its call by call id, shows new rings as `rtc:incoming`,
 * merges crossing rings into one call, and exposes `connectRTC` / `closeRTC`.
 *
 * @module
 */
import { type CallSignal, isCid, type ServerFrame, type SignalFrame } from "../../protocol/mod.ts";
import { RealtimeError } from "../errors.ts";
import { ConnectionState } from "../events.ts";
import type { Signaling } from "../signaling.ts";
import { Call, type CallContext, CallRole, type Ending, type Peer } from "./call.ts";
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

/** Who is behind a cid: the user, and the group it was seen in (null: not known). */
type Directory = { user_id: string; rid: string | null };

/** Whether `entry` already says `user_id` and `rid` (`undefined`: whatever it says). */
function says(entry: Directory | undefined, user_id: string, rid: string | null | undefined) {
  return entry !== undefined && entry.user_id === user_id &&
    (rid === undefined || rid === entry.rid);
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
  /** Ids of calls that ended here, so a late or repeated ring of one never rings again. */
  #ended = new Set<string>();
  /** Who is behind each cid this client has heard of: a call's peer is named even if it never answers. */
  #directory = new Map<string, Directory>();
  /** The entry last put at the newest end of the directory. */
  #newest: { cid: string; entry: Directory } | null = null;
  #ctx: CallContext;

  constructor(
    readonly signaling: Signaling,
    readonly options: CallsOptions,
    readonly events: CallsEvents,
  ) {
    this.#ctx = {
      localCid: () => signaling.welcome?.cid ?? "",
      // Only the ring is acked: its ack names the callee. The rest (offers,
      // answers, candidates) go unacked; a failure comes as `signalerror`.
      send: (to, signal) =>
        signal.kind === "call"
          ? signaling.request({ type: "signal", to, signal }, "send a call signal")
          : signaling.relay(to, signal, `send a ${signal.kind} signal`),
      realtimeUrl: options.url,
      // A getter: the token may be refreshed during the call (getToken).
      get token() {
        return options.token;
      },
      env: options,
      timeouts: signaling.timeouts,
      onClosed: (call, message, how) => this.#onClosed(call, message, how),
    };
    signaling.on("frame", (frame: ServerFrame) => {
      if ("sender_cid" in frame) {
        this.learn(
          frame.sender_cid,
          frame.sender,
          "sender_rid" in frame ? frame.sender_rid : undefined,
        );
      }
      if (frame.type === "signal") this.#onSignal(frame);
      // The other side's connection is gone for good: its calls end now, not at a timeout.
      if (frame.type === "notice" && frame.code === "USER_DISCONNECTED") {
        for (const call of this.calls) if (call.peer.cid === frame.sender_cid) call.peerGone();
      }
    });
    signaling.on("signalerror", (ref, error) => {
      const call = this.#calls.get(ref.call);
      if (call?.peer.cid === ref.to) call.signalFailed(ref.kind, error);
    });
    // Closing on purpose (closeRealtime, the page going away): end every call
    // while the socket can still tell the other sides.
    signaling.on("closing", () => {
      for (const call of this.calls) void call.hangup();
    });
  }

  /** Remembers who connection `cid` is (from notices, messages, lists). */
  learn(cid: string, user_id: string, rid?: string | null): void {
    // Most messages come from a sender already known as it is, often the
    // last one heard of (already at the newest end): nothing changes.
    const newest = this.#newest;
    if (newest?.cid === cid && says(newest.entry, user_id, rid)) return;
    const before = this.#directory.get(cid);
    if (says(before, user_id, rid)) {
      this.#directory.delete(cid);
      this.#directory.set(cid, before!);
      this.#newest = { cid, entry: before! };
      return;
    }
    if (!isCid(cid) || !user_id) return;
    const entry = { user_id, rid: rid === undefined ? before?.rid ?? null : rid };
    this.#directory.delete(cid);
    this.#directory.set(cid, entry);
    this.#newest = { cid, entry };
    // Bounded: the oldest entries go first.
    if (this.#directory.size > 10_000) this.#directory.delete(this.#directory.keys().next().value!);
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
    // A late signal of an ended call, or a repeated ring of one.
    if (signal.kind !== "call" || this.#ended.has(signal.call)) return;
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

  #onClosed(call: Call, reason: string, how: Ending): void {
    if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
    this.#ended.add(call.id);
    if (this.#ended.size > 1000) this.#ended.delete(this.#ended.values().next().value!);
    if (how.by === "local") return;
    const known = this.#directory.get(call.peer.cid);
    const sender = call.peer.user_id || known?.user_id || "";
    this.events.closed({
      type: "rtc:closed",
      sender,
      sender_cid: call.peer.cid,
      sender_rid: call.peer.rid ?? known?.rid ?? null,
      message: { hungup: sender },
      code: how.by === "none" ? how.code : null,
      reason,
    });
  }

  /**
   * Calls connection `params.cid`. Resolves once media and ICE servers are
   * ready and the ring is on its way; the connector's `connection` always
   * settles. Calling someone who is ringing this side accepts their call.
   *
   * @throws {RealtimeError} `INVALID_PARAMETER` for bad parameters, `NOT_CONNECTED`
   * without a realtime connection
   * @throws {DOMException} the browser's getUserMedia failure (`NotAllowedError`, …), as in Skapi
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
    // As in Skapi, a call made while the socket is still opening waits for it.
    if (this.signaling.state === ConnectionState.Connecting) {
      await this.signaling.connect().catch(() => {});
    }
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
    const known = this.#directory.get(cid);
    const call = new Call(this.#ctx, newCallId(), CallRole.Caller, {
      cid,
      user_id: known?.user_id ?? "",
      name: "",
      rid: known?.rid ?? null,
    }, specs);
    this.#calls.set(call.id, call);
    try {
      await call.prepare(params, callback);
    } catch (error) {
      this.#calls.delete(call.id);
      call.end(`The call could not start: ${(error as Error)?.message ?? error}`, false, {
        by: "local",
      });
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
