// Over 300 lines: the PeerJS socket's lifecycle (admit, claim, relay, heartbeat, leave) reads best whole.
/**
 * The PeerJS server face of one isolate: `GET /peerjs/<key>/id`, the
 * `/peerjs/<key>/peers` list, and the WebSocket `/peerjs/peerjs?key=&id=&token=`,
 * as `peer` 1.0.x serves them, over the hub's core: its admission (origin,
 * per-address limits, access tokens), its limits (frame size, rate), its
 * registry and bus (a peer on one isolate reaches a peer on another).
 *
 * @module
 */
import {
  CLOSE,
  exceedsBytes,
  parsePeerjsFrame,
  PEERJS_DEFAULTS,
  PEERJS_MESSAGES,
  peerjsRefusal,
  type PeerjsServerFrame,
} from "../../protocol/mod.ts";
import { releaseOnClose, type RemoteInfo } from "../abuse.ts";
import type { Hub } from "../hub.ts";
import { randomId } from "../ids.ts";
import { peerjsFromEnv, type PeerjsSettings } from "../settings.ts";
import { admitPeer } from "./admit.ts";
import { CLAIM_REFRESH_MS, PeerClaims, tokenDigest } from "./claims.ts";
import { PeerjsPeer } from "./peer.ts";
import { Relay } from "./relay.ts";

/** Options of {@linkcode createPeerjsServer}. */
export interface PeerjsServerOptions {
  /** The hub of this isolate, whose core the PeerJS face uses. */
  hub: Hub;
  /** @default the defaults, with the environment's overrides */
  settings?: Partial<PeerjsSettings>;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

/** Most ids `GET /peerjs/<key>/peers` lists (PeerJS's own concurrent limit). */
const MAX_LISTED = 5_000;
const OPEN_FRAME = JSON.stringify({ type: "OPEN" } satisfies PeerjsServerFrame);
/** What the bus brings a peer that reconnected on another isolate: let go quietly. */
export const TAKEN_OVER = "peerjs:taken-over";

/**
 * Creates this isolate's PeerJS server.
 *
 * @example
 * ```ts ignore
 * const peerjs = createPeerjsServer({ hub });
 * Deno.serve((req, info) => peerjs.handle(req, info));
 * ```
 */
export function createPeerjsServer(options: PeerjsServerOptions): PeerjsServer {
  return new PeerjsServer(options);
}

/** See {@linkcode createPeerjsServer}. */
export class PeerjsServer {
  readonly settings: PeerjsSettings;
  readonly claims: PeerClaims;
  readonly relay: Relay;
  readonly #hub: Hub;
  /** Connects of one id run one after another (a claim is read, then written). */
  readonly #opening = new Map<string, Promise<void>>();
  readonly #releases = new Set<Promise<void>>();
  #tick: ReturnType<typeof setInterval>;
  #refresh: ReturnType<typeof setInterval>;
  #closing: Promise<void> | null = null;

  constructor(options: PeerjsServerOptions) {
    const hub = this.#hub = options.hub;
    this.settings = { ...peerjsFromEnv(), ...options.settings };
    const liveOthers = () => hub.cluster.liveness.others();
    this.claims = new PeerClaims({
      kv: hub.kv,
      key: this.settings.key,
      isolate: hub.isolate,
      liveOthers,
    });
    this.relay = new Relay({
      host: {
        isolate: hub.isolate,
        sendTo: (isolate, target, text) => hub.cluster.sendTo(isolate, target, text),
        liveOthers,
      },
      claims: this.claims,
      expireTimeoutMs: this.settings.expireTimeoutMs,
      onDead: (peer) => this.#drop(peer),
    });
    const every = Math.min(
      PEERJS_DEFAULTS.cleanupIntervalMs,
      Math.ceil(Math.min(this.settings.aliveTimeoutMs, this.settings.expireTimeoutMs) / 4),
    );
    this.#tick = setInterval(() => this.#check(), every);
    this.#refresh = setInterval(
      () => this.claims.refreshAll(this.relay.peers.values()),
      CLAIM_REFRESH_MS,
    );
    Deno.unrefTimer(Number(this.#tick));
    Deno.unrefTimer(Number(this.#refresh));
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Whether the hub requires access tokens (`PARLEY_AUTH_SECRET`): ids are then their subjects. */
  get requiresTokens(): boolean {
    return this.#hub.admission.settings.authSecret !== null;
  }

  /** A fresh id no peer holds (`GET /peerjs/<key>/id`). */
  async newId(): Promise<string> {
    for (;;) {
      const id = crypto.randomUUID();
      if (!this.relay.peers.has(id) && (await this.claims.lookup(id)) === null) return id;
    }
  }

  /** The ids connected on live isolates (`GET /peerjs/<key>/peers`, with discovery on). */
  peers(): Promise<string[]> {
    return this.claims.list(MAX_LISTED);
  }

  /**
   * Answers the WebSocket upgrade `/peerjs/peerjs?key=&id=&token=` (checked
   * by `admitPeer`). A refused socket is upgraded all the same and told why
   * in PeerJS's words (`ERROR`, `ID-TAKEN`, `INVALID-KEY`), then closed: the
   * PeerJS client reports only what comes over the socket.
   */
  async handle(req: Request, info?: RemoteInfo): Promise<Response> {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({
        code: "INVALID_REQUEST",
        message: "Cannot serve this request as it is not a WebSocket upgrade: connect with PeerJS",
      }, { status: 426, headers: { upgrade: "websocket" } });
    }
    if (this.#closing) {
      return Response.json({ code: "INTERNAL_ERROR", message: "The server is shutting down" }, {
        status: 503,
      });
    }
    const { id, token, refusal, release } = await admitPeer(
      req,
      info,
      this.settings.key,
      this.#hub.admission,
    );
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(req);
    } catch (error) {
      release();
      throw error;
    }
    const { socket, response } = upgraded;
    releaseOnClose(socket, release);
    socket.onopen = () => {
      if (refusal !== null) return this.#refuse(socket, refusal);
      this.#serial(id, () =>
        this.#open(socket, id, token).catch((error) => {
          console.error("peerjs: cannot open a peer", error);
          this.#refuse(socket, peerjsRefusal("ERROR", "Cannot record the id: try again"));
        }));
    };
    return response;
  }

  #refuse(socket: WebSocket, frame: string): void {
    try {
      socket.send(frame);
      socket.close(CLOSE.normal, "Refused");
    } catch {
      // Gone already.
    }
  }

  #serial(id: string, open: () => Promise<void>): void {
    const previous = this.#opening.get(id) ?? Promise.resolve();
    const next = previous.then(open);
    this.#opening.set(id, next);
    next.finally(() => {
      if (this.#opening.get(id) === next) this.#opening.delete(id);
    });
  }

  async #open(socket: WebSocket, id: string, token: string): Promise<void> {
    const digest = await tokenDigest(token);
    const local = this.relay.peers.get(id);
    if (local !== undefined) {
      if (local.claim.token !== digest) return this.#refuse(socket, idTaken);
      // The same client again (PeerJS's reconnect): the new socket replaces the old, no OPEN.
      const old = local.socket;
      local.socket = socket;
      local.lastSeen = performance.now();
      old.close(CLOSE.normal, "Replaced by a new socket");
      return this.#bind(local, socket);
    }
    await this.#hub.cluster.ready;
    const cid = `cid:${randomId(18)}`;
    const result = await this.claims.claim(id, digest, cid);
    if (result.kind === "taken") return this.#refuse(socket, idTaken);
    const claim = { isolate: this.#hub.isolate, cid, token: digest, since: Date.now() };
    const peer = new PeerjsPeer(id, {
      socket,
      claim,
      versionstamp: result.versionstamp,
      rate: this.#hub.limits.rateLimit,
      burst: this.#hub.limits.rateBurst,
      maxBufferedBytes: this.#hub.limits.maxBufferedBytes,
    });
    // A slow reader is let go (PeerJS keeps no resume log); its client reconnects with its token.
    peer.onBackedUp = () =>
      this.#drop(peer, "Read too slowly: reconnect to continue", CLOSE.slowReader);
    this.relay.peers.set(id, peer);
    peer.unregister = this.#hub.registry.addRecipient(cid, {
      sendText: (text) => {
        if (text === TAKEN_OVER) this.#drop(peer, "Reconnected on another isolate");
        else peer.sendText(text);
      },
    });
    // The old holder lets go first, even if this socket is gone already: the claim is ours now.
    if (result.kind === "moved") {
      this.#hub.cluster.sendTo(result.from.isolate, { cid: result.from.cid }, TAKEN_OVER);
    }
    if (socket.readyState !== WebSocket.OPEN || this.#closing) return this.#drop(peer);
    if (result.kind === "claimed") peer.sendText(OPEN_FRAME);
    this.#bind(peer, socket);
  }

  #bind(peer: PeerjsPeer, socket: WebSocket): void {
    socket.onmessage = (event) => {
      if (peer.socket === socket) this.#receive(peer, event.data);
    };
    socket.onclose = () => {
      if (peer.socket === socket) this.#drop(peer);
    };
    this.relay.arrived(peer);
  }

  #receive(peer: PeerjsPeer, data: unknown): void {
    peer.lastSeen = performance.now();
    const { maxFrameBytes, rateLimit } = this.#hub.limits;
    if (typeof data !== "string") {
      return this.#end(peer, "Cannot accept binary frames: send JSON text frames", CLOSE.policy);
    }
    if (exceedsBytes(data, maxFrameBytes)) {
      return this.#end(peer, `Frame too large: at most ${maxFrameBytes} bytes`, CLOSE.tooBig);
    }
    if (!peer.bucket.take()) {
      return this.#end(
        peer,
        `Rate limit exceeded: at most ${rateLimit} frames a second; reconnect`,
        CLOSE.policy,
      );
    }
    let frame;
    try {
      frame = parsePeerjsFrame(data, this.#hub.limits);
    } catch (error) {
      return this.#end(peer, (error as Error).message, CLOSE.policy);
    }
    if (frame === null || frame.type === "HEARTBEAT") return;
    if (frame.dst === undefined) return this.#drop(peer, "Left"); // LEAVE the server
    this.relay.send(peer.id, frame.type, frame.dst, frame.payload);
  }

  /** Tells the peer why (`ERROR`, which its client reports as `server-error`) and drops it. */
  #end(peer: PeerjsPeer, message: string, code: number): void {
    peer.sendText(peerjsRefusal("ERROR", message));
    this.#drop(peer, message.slice(0, 100), code);
  }

  /** Removes a peer: its socket, its registration, its claim. Idempotent. */
  #drop(peer: PeerjsPeer, reason = "Gone", code: number = CLOSE.normal): void {
    if (this.relay.peers.get(peer.id) !== peer) return;
    this.relay.peers.delete(peer.id);
    peer.unregister();
    peer.close(code, reason);
    const released = this.claims.release(peer.id, peer.cid).catch((error) => {
      console.error("peerjs: cannot release a claim", error);
    });
    this.#releases.add(released);
    released.finally(() => this.#releases.delete(released));
  }

  /** Silent peers go (PeerJS's alive timeout); waiting frames move on or expire. */
  #check(): void {
    const deadline = performance.now() - this.settings.aliveTimeoutMs;
    for (const peer of [...this.relay.peers.values()]) {
      if (peer.lastSeen < deadline) {
        this.#drop(
          peer,
          "Heartbeat timeout: nothing heard for the alive timeout",
          CLOSE.heartbeatTimeout,
        );
      }
    }
    this.relay.tick().catch((error) => console.error("peerjs: cannot check waiting frames", error));
  }

  /** Closes every peer's socket ("going away") and releases their claims. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#tick);
      clearInterval(this.#refresh);
      for (const peer of [...this.relay.peers.values()]) {
        this.#drop(peer, "Server is restarting: reconnect", CLOSE.goingAway);
      }
      await Promise.all(this.#opening.values());
      await Promise.all(this.#releases);
    })();
    return this.#closing;
  }
}

const idTaken = peerjsRefusal("ID-TAKEN", PEERJS_MESSAGES.idTaken);
