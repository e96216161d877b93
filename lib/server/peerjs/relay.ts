/**
 * Where a PeerJS frame goes: to a peer of this isolate at once; through the
 * hub's bus to the isolate whose claim holds its `dst`; or, when `dst` is
 * connected nowhere, into the waiting frames until it comes (then on) or
 * the wait runs out (then `EXPIRE` to the sender), as PeerJS does.
 *
 * A sender's frames leave in the order it sent them, whatever order the
 * claim lookups finish in. Nothing on the way to a local peer waits on KV.
 *
 * @module
 */
import type { PeerjsRelayedType, PeerjsServerFrame } from "../../protocol/mod.ts";
import type { Target } from "../registry.ts";
import type { PeerClaim, PeerClaims } from "./claims.ts";
import type { PeerjsPeer } from "./peer.ts";
import { Waiting } from "./waiting.ts";

/** What the relay needs of the hub. */
export interface RelayHost {
  /** This isolate's id. */
  isolate: string;
  /** Sends a frame's text to `target` on `isolate` over the bus (`Cluster.sendTo`). */
  sendTo(isolate: string, target: Target, text: string): void;
  /** The other live isolates, read fresh. */
  liveOthers(): Promise<string[]>;
}

/** Options of {@linkcode Relay}. */
export interface RelayOptions {
  host: RelayHost;
  claims: Pick<PeerClaims, "lookup">;
  /** How long a frame for a peer that is not connected waits before EXPIRE. */
  expireTimeoutMs: number;
  /** A local peer whose socket turned out closed: drop it. */
  onDead: (peer: PeerjsPeer) => void;
}

/** Most waiting destinations whose claims are looked up again per tick. */
const RETRIES_PER_TICK = 100;

/** Frames a PeerJS server never holds for later (PeerJS's `ignoredTypes`). */
const NOT_HELD: ReadonlySet<PeerjsRelayedType> = new Set(["LEAVE", "EXPIRE"]);

/**
 * The relay of one isolate's PeerJS peers.
 *
 * @example
 * ```ts ignore
 * const relay = new Relay({ host, claims, expireTimeoutMs: 5_000, onDead });
 * relay.peers.set("alice", alice);
 * relay.send("alice", "OFFER", "bob", { sdp: "…" });
 * ```
 */
export class Relay {
  /** The peers of this isolate, by id. */
  readonly peers = new Map<string, PeerjsPeer>();
  readonly waiting = new Waiting();
  readonly #options: RelayOptions;
  /** Per sender: the tail of its frames still waiting for a claim lookup. */
  readonly #outboxes = new Map<string, Promise<void>>();

  constructor(options: RelayOptions) {
    this.#options = options;
  }

  /** Relays a frame from `src` to `dst`, `src` stamped. */
  send(src: string, type: PeerjsRelayedType, dst: string, payload?: unknown): void {
    const frame = { type, src, dst, ...(payload === undefined ? {} : { payload }) };
    this.#relay(src, type, dst, JSON.stringify(frame satisfies PeerjsServerFrame));
  }

  /** `peer` has just connected here: the frames waiting for it go out, in order. */
  arrived(peer: PeerjsPeer): void {
    for (const frame of this.waiting.take(peer.id)) peer.sendText(frame.text);
  }

  /**
   * The periodic work: frames that waited too long expire (their senders
   * hear `EXPIRE`), and waiting destinations that have connected on another
   * isolate since get their frames.
   */
  async tick(): Promise<void> {
    for (const { src, dst } of this.waiting.expire(this.#options.expireTimeoutMs)) {
      // From the peer that never came, to the one that waited for it.
      this.send(dst, "EXPIRE", src);
    }
    const destinations = this.waiting.destinations().slice(0, RETRIES_PER_TICK);
    if (destinations.length === 0) return;
    if ((await this.#options.host.liveOthers()).length === 0) return;
    await Promise.all(destinations.map(async (dst) => {
      const claim = await this.#locate(dst);
      if (claim === null || this.peers.has(dst)) return;
      for (const frame of this.waiting.take(dst)) this.#sendTo(claim, frame.text);
    }));
  }

  #relay(src: string, type: PeerjsRelayedType, dst: string, text: string): void {
    const pending = this.#outboxes.get(src);
    if (pending === undefined && this.#here(src, type, dst, text)) return;
    const located = this.#locate(dst);
    const next = (pending ?? Promise.resolve()).then(async () => {
      if (this.#here(src, type, dst, text)) return;
      const claim = await located;
      if (claim !== null) this.#sendTo(claim, text);
      else this.#hold(src, type, dst, text);
    }).catch((error) => console.error("peerjs: cannot relay a frame", error));
    this.#outboxes.set(src, next);
    next.finally(() => {
      if (this.#outboxes.get(src) === next) this.#outboxes.delete(src);
    });
  }

  /** Delivers to a local peer, or queues behind frames already waiting; false if neither. */
  #here(src: string, type: PeerjsRelayedType, dst: string, text: string): boolean {
    if (this.waiting.has(dst)) {
      this.#hold(src, type, dst, text);
      return true;
    }
    const peer = this.peers.get(dst);
    if (peer === undefined) return false;
    if (!peer.sendText(text)) {
      // Its socket died without a close yet: tell the sender it left, as PeerJS does.
      this.#options.onDead(peer);
      if (type !== "LEAVE") this.send(dst, "LEAVE", src);
    }
    return true;
  }

  #hold(src: string, type: PeerjsRelayedType, dst: string, text: string): void {
    if (NOT_HELD.has(type)) return;
    // Over the bounds: the sender hears at once what it would hear in a few seconds.
    if (!this.waiting.add(dst, { src, text })) this.send(dst, "EXPIRE", src);
  }

  /** The claim of `dst` on another live isolate, or null. */
  async #locate(dst: string): Promise<PeerClaim | null> {
    const { host, claims } = this.#options;
    const others = await host.liveOthers();
    if (others.length === 0) return null;
    const claim = await claims.lookup(dst);
    return claim !== null && claim.isolate !== host.isolate && others.includes(claim.isolate)
      ? claim
      : null;
  }

  #sendTo(claim: PeerClaim, text: string): void {
    this.#options.host.sendTo(claim.isolate, { cid: claim.cid }, text);
  }
}
