// Over 300 lines: a connection's whole life (accept, bind, welcome, suspend, resume, take over, drop) in one place.
/**
 * The life of this isolate's connections: a socket is taken in (accepted:
 * registered, recorded in presence, welcomed), bound (its frames go to the
 * inbound pipeline, its close ends or suspends the connection), kept alive
 * by the heartbeat, and dropped (its group told, its presence cleared).
 *
 * Sessions outlive their sockets: a connection whose socket dropped waits
 * (suspended) for its client to resume it — here, with what it missed
 * replayed, or on another isolate, which takes it over while this one lets
 * it go and sends on what it kept (see `handover.ts`); the heartbeat
 * (`heartbeat.ts`) suspends the silent ones. A resume is only ever
 * `resumed: true` when every frame the client missed is in hand; else the
 * client starts afresh under the same cid (so calls that signal to it go
 * on), out of its group: its room sees it leave and join again, and the SDK
 * tells the app it may have missed messages.
 *
 * @module
 */
import { CLOSE, type Limits, type ResumeClaim, type ServerFrame } from "../protocol/mod.ts";
import type { Admission, Ticket } from "./admission.ts";
import { roomAllowed } from "./auth.ts";
import type { Cluster } from "./cluster.ts";
import {
  Connection,
  ConnectionState,
  type Credentials,
  type Identity,
  type SocketLike,
} from "./connection.ts";
import { armExpiry, replaceGrant } from "./grants.ts";
import { closeReason } from "./handshake.ts";
import { Handovers, release } from "./handover.ts";
import { Heartbeat, longestSilenceMs } from "./heartbeat.ts";
import type { Inbound } from "./inbound.ts";
import type { ConnectionRecord, Presence } from "./presence.ts";
import type { Registry } from "./registry.ts";
import { notify } from "./requests.ts";
import type { Router } from "./routing.ts";

/** Errors Deno reports when a client broke the WebSocket framing (not a network failure). */
const PROTOCOL_VIOLATION = /invalid utf-8|frame too large|reserved bits|control frame|opcode/i;

/** The longest a disconnect notice waits for its presence removal to land in KV (ms). */
const NOTICE_AFTER_KV_MS = 1_000;

/** Resolves when `promise` settles or `ms` have passed, whichever comes first; leaves no timer. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A socket whose frames and close sessions listen to; a `WebSocket` is one. */
export type BindableSocket = SocketLike & Pick<WebSocket, "onmessage" | "onclose" | "onerror">;

/** Who arrives on a socket, and how it came in. */
export interface Arrival extends Identity, Credentials {
  /** The protocol version its client speaks (its URL's `v`; the welcome echoes it). @default 1 */
  protocol?: number;
  /** Its upgrade's ticket, for the checks of its joins (see `Admission.attach`). */
  ticket?: Ticket;
}

/** The parts {@linkcode Sessions} works with. */
export interface SessionsOptions {
  limits: Limits;
  registry: Registry;
  presence: Presence;
  /** Whether this isolate may take connections yet, and the hand-overs between isolates. */
  cluster: Pick<Cluster, "ready" | "release" | "route">;
  /** Tells a connection's group that it went. */
  router: Pick<Router, "route">;
  /** Tokens: a connection's joins are checked against its ticket, an `auth` verified. */
  admission: Pick<Admission, "attach" | "verify">;
  /** Takes the frames of bound sockets. */
  inbound: Pick<Inbound, "receive">;
  /** The leave of `cid` KV refused past its tries: its record waits for a presence repair. */
  onLeaveFailed?: (cid: string) => void;
}

/**
 * The connections of one hub, from accept to drop, resumes included.
 *
 * @example Take an identified socket in (a fresh connection, or a resume)
 * ```ts ignore
 * const sessions = new Sessions({ limits, registry, presence, cluster, router, admission, inbound });
 * const connection = await sessions.open(socket, { cid, user_id, name }, hello?.resume);
 * ```
 */
export class Sessions {
  readonly #options: SessionsOptions;
  readonly #limits: Limits;
  readonly #registry: Registry;
  readonly #handovers = new Handovers();
  /** Drops whose presence removal or notice is still under way; close() waits for them. */
  readonly #drops = new Set<Promise<void>>();
  readonly #heartbeat: Heartbeat;
  #closing: Promise<void> | null = null;

  constructor(options: SessionsOptions) {
    this.#options = options;
    this.#limits = options.limits;
    this.#registry = options.registry;
    this.#heartbeat = new Heartbeat(this.#registry, (c) => this.suspend(c), this.#limits);
  }

  /** Whether {@linkcode close} was called: no socket is taken in any more. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /**
   * Takes an identified, open socket in: continues the session its hello's
   * `resume` claim names (here, or taken over from another isolate) or
   * starts a fresh connection. Resolves to the connection it now is (null
   * when the socket closed while its session was looked up).
   */
  async open(
    socket: BindableSocket,
    arrival: Arrival,
    claim?: ResumeClaim,
  ): Promise<Connection | null> {
    let previous = await this.#find(claim, arrival.user_id);
    const group = previous instanceof Connection ? previous.group : previous?.value.group;
    // A fresher token that no longer grants the room starts afresh.
    if (arrival.grant && group && !roomAllowed(arrival.grant.rooms, group)) previous = null;
    const received = claim?.received ?? 0;
    if (socket.readyState !== WebSocket.OPEN) return null; // gone while we looked
    if (previous instanceof Connection) {
      return this.#resumeHere(previous, socket, received, arrival);
    }
    if (previous) return this.#takeOver(previous, socket, received, arrival);
    return this.accept(socket, arrival);
  }

  /** Takes an open socket in as a new connection: registers it, records presence, welcomes it. */
  accept(socket: BindableSocket, arrival: Arrival): Connection {
    const connection = this.#create(socket, arrival);
    this.#registry.add(connection);
    this.#bind(connection, socket);
    // Presence is written only once this isolate is recorded as alive.
    connection.queue = this.#options.cluster.ready
      .then(() => this.#options.presence.connect(connection))
      .then(
        () => this.#welcome(connection, false),
        (error) => {
          console.error("presence: cannot record connection", error);
          connection.close(CLOSE.internal, "Cannot record presence: try again");
        },
      );
    return connection;
  }

  /** Makes (but does not register) a connection with this hub's limits. */
  #create(socket: SocketLike, arrival: Arrival & { session?: string }): Connection {
    const limits = this.#limits;
    const connection = new Connection(socket, arrival, {
      rate: limits.rateLimit,
      burst: limits.rateBurst,
      replayFrames: limits.resumeBufferFrames,
      replayBytes: limits.resumeBufferBytes,
      maxBufferedBytes: limits.maxBufferedBytes,
    });
    this.#arrived(connection, arrival);
    connection.onBackedUp = () => {
      // Like a dropped socket: kept for its grace, its frames logged for the resume.
      const backedUp = connection.socket;
      this.suspend(connection);
      try {
        backedUp.close(
          CLOSE.slowReader,
          `Read too slowly: over ${limits.maxBufferedBytes} bytes queued; resume to continue`,
        );
      } catch {
        // Already closing.
      }
    };
    return connection;
  }

  /** What the socket `connection` now has says of its client: its version, its ticket. */
  #arrived(connection: Connection, arrival: Arrival): void {
    connection.protocol = arrival.protocol ?? 1;
    if (arrival.ticket) this.#options.admission.attach(connection, arrival.ticket);
  }

  /** Frames and the close of `socket` go to `connection` while it is its socket. */
  #bind(connection: Connection, socket: BindableSocket): void {
    const { inbound } = this.#options;
    socket.onmessage = (event) => {
      if (connection.socket !== socket) return;
      if (inbound.receive(connection, event.data)) this.drop(connection); // a goodbye
    };
    socket.onerror = (event) => {
      // Deno drops a socket that broke the framing itself (invalid UTF-8 in
      // a text frame, a frame over its own 64 MiB bound) with no close frame,
      // which would look like a blip: such a client is not let resume.
      const message = (event as ErrorEvent).message ?? "";
      if (connection.socket !== socket || !PROTOCOL_VIOLATION.test(message)) return;
      connection.close(CLOSE.invalidData, closeReason(`Protocol violation: ${message}`));
      this.drop(connection);
    };
    socket.onclose = (event) => {
      // Replaced by a resume, or already suspended by the server (a slow
      // reader, a silent one), however its close handshake ends.
      if (connection.socket !== socket || connection.state === ConnectionState.Suspended) return;
      // A clean close (the client sent a close frame) is a leave; a socket
      // that just dropped (1006) waits for its client to resume it.
      if (connection.closed || this.#closing || event.wasClean) this.drop(connection);
      else this.suspend(connection);
    };
  }

  /** Sends the welcome (uncounted: nothing comes before it) and arms the token's expiry. */
  #welcome(connection: Connection, resumed: boolean): void {
    connection.welcomed = true;
    this.#armExpiry(connection);
    connection.sendUncounted(JSON.stringify(
      {
        type: "welcome",
        v: connection.protocol,
        cid: connection.cid,
        user_id: connection.user_id,
        name: connection.name,
        isolate: this.#options.presence.isolate,
        heartbeat: longestSilenceMs(this.#limits),
        session: connection.session,
        grace: this.#limits.resumeGraceMs,
        resumed,
        group: connection.group,
        ...(connection.proof ? { proof: connection.proof } : {}),
        ...(connection.grant ? { expires: connection.grant.exp * 1000 } : {}),
      } satisfies ServerFrame,
    ));
  }

  /** Closes `connection` when its token expires (re-armed by each new token). */
  #armExpiry(connection: Connection): void {
    armExpiry(connection, () => {
      connection.close(
        CLOSE.unauthorized,
        "Access token expired: reconnect with a new one (the SDK's getToken option refreshes it)",
      );
      this.drop(connection);
    });
  }

  /**
   * Replaces the access token of `connection` (an `auth` request) and
   * re-arms its expiry; resolves to when the new one expires (ms).
   *
   * @throws {RequestError} `UNAUTHORIZED` when the token is refused (see `replaceGrant`).
   */
  async renew(connection: Connection, token: string): Promise<number> {
    const expires = await replaceGrant(this.#options.admission, connection, token);
    this.#armExpiry(connection);
    return expires;
  }

  /** The socket dropped without a goodbye: keep the connection for its grace period. */
  suspend(connection: Connection): void {
    if (connection.state !== ConnectionState.Open) return;
    connection.suspend();
    connection.graceTimer = setTimeout(() => this.drop(connection), this.#limits.resumeGraceMs);
  }

  /** Removes a connection that went away; tells its group. Idempotent. */
  drop(connection: Connection): Promise<void> {
    if (!this.#registry.has(connection)) return Promise.resolve();
    connection.close(CLOSE.normal, "Gone");
    return this.#forget(connection);
  }

  /** Removes a connection, tells its group and clears its presence; its socket is left as it is. */
  #forget(connection: Connection): Promise<void> {
    if (!this.#registry.has(connection)) return Promise.resolve();
    const group = connection.group;
    this.#registry.remove(connection);
    const removed = this.#options.presence.disconnect(connection, group).catch((error) => {
      console.error("presence: cannot remove connection", error);
      this.#options.onLeaveFailed?.(connection.cid);
    });
    // As with a join's move, the removal lands in KV before the group hears of it, so a list
    // right after the notice no longer shows the connection. A KV that keeps failing delays the
    // notice by at most NOTICE_AFTER_KV_MS (presence repair removes the record later).
    const told = group === null ? Promise.resolve() : settledWithin(removed, NOTICE_AFTER_KV_MS)
      .then(() => notify(this.#options.router, connection, group, "USER_DISCONNECTED")).then(
        () => {},
        (error) => console.error("hub: cannot tell the group of a disconnect", error),
      );
    const dropped = Promise.all([removed, told]).then(() => {});
    // close() waits for these, so the KV is never closed under a write.
    this.#drops.add(dropped);
    dropped.finally(() => this.#drops.delete(dropped));
    return dropped;
  }

  /**
   * Takes in a hand-over marker (see `handover.ts`) routed to `cid`;
   * true when `text` was one (it goes to no socket).
   */
  settle(cid: string, text: string): boolean {
    return this.#handovers.settle(cid, text);
  }

  /**
   * The session a hello's `resume` claim may continue: a connection of this
   * isolate, or the record of one on another isolate — only with its secret
   * and only for the user it belongs to. Null when there is none to
   * continue (a fresh connection follows).
   */
  async #find(
    claim: ResumeClaim | undefined,
    userId: string,
  ): Promise<Connection | Deno.KvEntry<ConnectionRecord> | null> {
    if (!claim) return null;
    const { cid, session } = claim;
    const local = this.#registry.get(cid);
    if (local) return local.session === session && local.user_id === userId ? local : null;
    const { presence } = this.#options;
    const entry = await presence.entry(cid);
    const record = entry.value;
    if (!record || record.session !== session || record.user_id !== userId) return null;
    // Recorded here but not in the registry: it has ended.
    if (record.isolate === presence.isolate) return null;
    return entry as Deno.KvEntry<ConnectionRecord>;
  }

  /** Continues `connection` on `socket`, replaying what its client missed. */
  #resumeHere(
    connection: Connection,
    socket: BindableSocket,
    received: number,
    arrival: Arrival,
  ): Connection {
    const missed = connection.log.since(received);
    if (connection.closed) {
      this.drop(connection);
      return this.accept(socket, arrival);
    }
    if (missed === null) {
      // Frames it never got are no longer kept: it cannot continue faithfully.
      this.drop(connection);
      return this.accept(socket, { ...arrival, cid: connection.cid });
    }
    connection.resume(socket);
    // The new socket's credentials (a fresher token) are the ones that count now.
    connection.grant = arrival.grant ?? null;
    connection.proof = arrival.proof;
    this.#arrived(connection, arrival);
    this.#bind(connection, socket);
    this.#welcome(connection, true);
    for (const text of missed) connection.sendUncounted(text);
    return connection;
  }

  /**
   * Connection `cid` was resumed on another isolate: drop it here without a
   * word to its group or presence, and route on what its client missed.
   */
  release(cid: string, received: number): void {
    release(this.#registry, this.#options.cluster, cid, received);
  }

  /**
   * Continues here a connection of another isolate: same cid, same group,
   * no churn — once its old isolate has sent on every frame its client
   * missed. When that isolate is dead or lost some, the client starts
   * afresh under the same cid: its group sees it leave, and the welcome says
   * `resumed: false`.
   */
  #takeOver(
    entry: Deno.KvEntry<ConnectionRecord>,
    socket: BindableSocket,
    received: number,
    arrival: Arrival,
  ): Connection {
    const { cid, user_id, name, session, group } = entry.value;
    const { cluster, presence } = this.#options;
    const connection = this.#create(socket, { ...arrival, cid, user_id, name, session });
    connection.log.restartAt(received);
    // Until the hand-over, what is routed to it is only logged: the welcome goes first.
    connection.suspend();
    this.#registry.add(connection);
    this.#registry.setGroup(connection, group);
    this.#bind(connection, socket);
    connection.queue = cluster.ready.then(() => presence.takeOver(entry)).then(
      async (ok) => {
        if (!ok) {
          // Swept or taken meanwhile: start afresh on this socket.
          this.#registry.remove(connection);
          this.accept(socket, arrival);
          return;
        }
        // Its old isolate, if alive, lets it go and sends on what it missed.
        const handedOver = this.#handovers.wait(cid);
        cluster.release(entry.value.isolate, cid, received);
        if (await handedOver) {
          connection.resume(socket);
          this.#welcome(connection, true);
          for (const text of connection.log.since(received) ?? []) connection.sendUncounted(text);
          // Its socket dropped while it waited (that close was not its to handle).
          if (socket.readyState !== WebSocket.OPEN) this.suspend(connection);
          return;
        }
        // Frames it missed died with that isolate: never claim a resume with a gap.
        await this.#forget(connection);
        if (socket.readyState === WebSocket.OPEN) this.accept(socket, { ...arrival, cid });
      },
      (error) => {
        console.error("presence: cannot take over connection", error);
        connection.close(CLOSE.internal, "Cannot resume: try again");
      },
    );
    return connection;
  }

  /**
   * This isolate was taken for dead and its connections removed from
   * presence (their groups told): close them without touching presence
   * again, so the clients reconnect and are recorded anew.
   */
  evict(): void {
    for (const connection of [...this.#registry.all()]) {
      this.#registry.remove(connection);
      connection.close(CLOSE.goingAway, "Server was taken for dead: reconnect");
    }
  }

  /** Closes every socket ("going away") and waits until their presence is cleared. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#heartbeat.stop();
      for (const connection of [...this.#registry.all()]) {
        connection.close(CLOSE.goingAway, "Server is restarting: reconnect");
        this.drop(connection);
      }
      await Promise.all(this.#drops);
    })();
    return this.#closing;
  }
}
