/**
 * Perfect negotiation (W3C WebRTC, "Perfect negotiation example") for one
 * call: either side may renegotiate at any time; when two offers cross, the
 * impolite side ignores the other's and the polite side rolls its own back.
 * Remote ICE candidates wait until a remote description is set and are
 * added right after it.
 *
 * @module
 */
import type { IceCandidate, SessionDescription, Signal } from "../../protocol/mod.ts";

/** A signal as a call sends it (the call id is added by the call). */
export type OutSignal = Signal extends infer S ? S extends Signal ? Omit<S, "call"> : never
  : never;

/** Options of {@linkcode Negotiation}. */
export interface NegotiationOptions {
  /** Whether this side yields when offers cross. */
  polite: boolean;
  /**
   * Whether this side may offer before it has received an offer. The callee
   * waits for the caller's first offer, so a call starts without glare.
   */
  offerFirst: boolean;
  /** Sends a description or candidate to the other side. */
  send: (signal: OutSignal) => void;
  /** Reports a failed step (the call decides whether it is fatal). */
  onError: (what: string, error: unknown) => void;
}

/** Perfect negotiation plus trickle-ICE buffering for one peer connection. */
export class Negotiation {
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  #ready: boolean;
  #deferred = false;
  #closed = false;
  #pending: RTCIceCandidateInit[] = [];
  #chain: Promise<void> = Promise.resolve();
  #offs: (() => void)[] = [];

  /**
   * Starts listening on `pc`.
   *
   * @example
   * ```ts ignore
   * const negotiation = new Negotiation(pc, { polite: true, offerFirst: true, send, onError });
   * signals.on("description", (s) => negotiation.receive(s));
   * ```
   */
  constructor(readonly pc: RTCPeerConnection, readonly options: NegotiationOptions) {
    this.#ready = options.offerFirst;
    const on = (type: string, listener: (event: never) => void) => {
      pc.addEventListener(type, listener as EventListener);
      this.#offs.push(() => pc.removeEventListener(type, listener as EventListener));
    };
    on("negotiationneeded", () => void this.#negotiate());
    on("icecandidate", (event: RTCPeerConnectionIceEvent) => this.#sendCandidate(event?.candidate));
  }

  /** The offers and answers seen so far, for tests and logs. */
  readonly stats = { offersSent: 0, offersReceived: 0, ignored: 0, rollbacks: 0 };

  async #negotiate(): Promise<void> {
    if (this.#closed) return;
    if (!this.#ready) {
      this.#deferred = true;
      return;
    }
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      const local = this.pc.localDescription;
      if (local?.type === "offer") {
        this.stats.offersSent++;
        this.options.send({ kind: "description", description: describe(local) });
      }
    } catch (error) {
      if (!this.#closed) this.options.onError("create an offer", error);
    } finally {
      this.#makingOffer = false;
    }
  }

  #sendCandidate(candidate: RTCIceCandidate | null | undefined): void {
    if (this.#closed || !candidate || !candidate.candidate) return;
    const init: IceCandidate = { candidate: candidate.candidate };
    if (candidate.sdpMid != null) init.sdpMid = candidate.sdpMid;
    if (candidate.sdpMLineIndex != null) init.sdpMLineIndex = candidate.sdpMLineIndex;
    if (candidate.usernameFragment != null) init.usernameFragment = candidate.usernameFragment;
    this.options.send({ kind: "candidate", candidate: init });
  }

  /** Handles a remote description or candidate, in arrival order. */
  receive(signal: Signal): Promise<void> {
    const step = async () => {
      if (this.#closed) return;
      try {
        if (signal.kind === "description") await this.#onDescription(signal.description);
        else if (signal.kind === "candidate") await this.#onCandidate(signal.candidate);
      } catch (error) {
        if (!this.#closed) this.options.onError(`apply the remote ${signal.kind}`, error);
      }
    };
    return this.#chain = this.#chain.then(step);
  }

  async #onDescription(description: SessionDescription): Promise<void> {
    const pc = this.pc;
    const readyForOffer = !this.#makingOffer &&
      (pc.signalingState === "stable" || this.#settingRemoteAnswer);
    const collision = description.type === "offer" && !readyForOffer;
    this.#ignoreOffer = !this.options.polite && collision;
    if (this.#ignoreOffer) {
      this.stats.ignored++;
      return;
    }
    if (collision && pc.signalingState === "have-local-offer") {
      // Explicit rather than implicit rollback: not every implementation
      // (werift) rolls back inside setRemoteDescription.
      this.stats.rollbacks++;
      await pc.setLocalDescription({ type: "rollback" });
    }
    this.#settingRemoteAnswer = description.type === "answer";
    try {
      await pc.setRemoteDescription(description as RTCSessionDescriptionInit);
    } finally {
      this.#settingRemoteAnswer = false;
    }
    await this.#flush();
    if (description.type !== "offer") return;
    this.stats.offersReceived++;
    await pc.setLocalDescription();
    const local = pc.localDescription;
    if (local) this.options.send({ kind: "description", description: describe(local) });
    if (!this.#ready) {
      this.#ready = true;
      if (this.#deferred) {
        this.#deferred = false;
        // Tracks this side added before the first offer, which that offer
        // had no room for, need an offer of our own.
        setTimeout(() => {
          const unmatched = pc.getTransceivers().some((t) =>
            t.mid === null && t.currentDirection !== "stopped"
          );
          if (unmatched && pc.signalingState === "stable" && !this.#makingOffer) {
            void this.#negotiate();
          }
        }, 0);
      }
    }
  }

  async #onCandidate(candidate: IceCandidate | null): Promise<void> {
    if (!candidate) return;
    if (!this.pc.remoteDescription) {
      this.#pending.push(candidate);
      return;
    }
    await this.#add(candidate);
  }

  async #add(candidate: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      // Candidates of an ignored offer, or of an ICE generation a restart
      // replaced, are expected to fail.
      if (!this.#ignoreOffer && !this.#closed) {
        console.debug("parley: a remote ICE candidate was not added", error);
      }
    }
  }

  async #flush(): Promise<void> {
    for (const candidate of this.#pending.splice(0)) await this.#add(candidate);
  }

  /** Stops listening; later signals are ignored. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#pending = [];
    for (const off of this.#offs.splice(0)) off();
  }
}

function describe(
  description: RTCSessionDescription | RTCSessionDescriptionInit,
): SessionDescription {
  const out: SessionDescription = { type: description.type as SessionDescription["type"] };
  if (description.sdp) out.sdp = description.sdp;
  return out;
}
