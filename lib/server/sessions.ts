/**
 * Sessions that outlive their sockets: a connection whose socket dropped
 * waits (suspended) for its client to resume it — here, with what it missed
 * replayed, or on another isolate, which takes it over while this one lets
 * it go and sends on what it kept. A resume is only ever `resumed: true`
 * when every frame the client missed is in hand: a takeover waits for the
 * old isolate to say it sent on all it kept, and when that isolate died (or
 * no longer has the frames) the client starts afresh instead — a new
 * session under the same cid (so calls that signal to it go on), out of its
 * group: its room sees it leave and join again, and the SDK tells the app
 * it may have missed messages.
 *
 * @module
 */
import { CLOSE, type Limits, type ResumeClaim } from "../protocol/mod.ts";
import type { Cluster } from "./cluster.ts";
import {
  type Connection,
  ConnectionState,
  type Credentials,
  type Identity,
  type SocketLike,
} from "./connection.ts";
import type { ConnectionRecord, Presence } from "./presence.ts";
import type { Registry } from "./registry.ts";

/**
 * How long a takeover waits for the old isolate to hand over what its
 * client missed before it takes that isolate for dead and starts afresh.
 */
export const RELEASE_TIMEOUT_MS = 3_000;

/**
 * What an isolate routes to a connection it let go, after the frames its
 * client missed: all were sent on, or some were no longer kept. Never a
 * frame's JSON, so never mistaken for one; never reaches a socket.
 */
export const RELEASED = { all: "\u0000released", gap: "\u0000released:gap" } as const;

/** A socket whose frames and close the hub can listen to; a `WebSocket` is one. */
export type BindableSocket = SocketLike & Pick<WebSocket, "onmessage" | "onclose" | "onerror">;

/** What sessions need of the hub. */
export interface SessionHost {
  readonly limits: Limits;
  readonly registry: Registry;
  readonly presence: Presence;
  readonly cluster: Cluster;
  /** Takes a socket in as a new connection. */
  accept(socket: BindableSocket, identity: Identity & Credentials): Connection;
  /** Makes (but does not register) a connection with this hub's limits. */
  create(socket: SocketLike, identity: Identity & Credentials & { session?: string }): Connection;
  /** Routes `socket`'s frames and close to `connection`. */
  bind(connection: Connection, socket: BindableSocket): void;
  /** Sends the welcome (uncounted). */
  welcome(connection: Connection, resumed: boolean): void;
  /** Ends a connection for good, telling its group. */
  drop(connection: Connection): Promise<void>;
  /** Removes a connection (tells its group, clears its presence) without closing its socket. */
  forget(connection: Connection): Promise<void>;
}

/**
 * The suspended and resumed connections of one hub.
 *
 * @example
 * ```ts ignore
 * const sessions = new Sessions(host);
 * const previous = await sessions.find(hello.resume, userId);
 * ```
 */
export class Sessions {
  /** Takeovers waiting for their old isolate's hand-over, by cid. */
  #handovers = new Map<string, (complete: boolean) => void>();

  constructor(private readonly host: SessionHost) {}

  /**
   * Takes in a hand-over marker ({@linkcode RELEASED}) routed to `cid`;
   * true when `text` was one (it goes to no socket).
   */
  settle(cid: string, text: string): boolean {
    if (text !== RELEASED.all && text !== RELEASED.gap) return false;
    this.#handovers.get(cid)?.(text === RELEASED.all);
    return true;
  }

  /** Resolves to whether the old isolate handed `cid` over whole, within the timeout. */
  #handover(cid: string): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (complete: boolean) => {
        clearTimeout(timer);
        if (this.#handovers.get(cid) === done) this.#handovers.delete(cid);
        resolve(complete);
      };
      const timer = setTimeout(() => done(false), RELEASE_TIMEOUT_MS);
      this.#handovers.get(cid)?.(false);
      this.#handovers.set(cid, done);
    });
  }

  /**
   * The session a hello's `resume` claim may continue: a connection of this
   * isolate, or the record of one on another isolate — only with its secret
   * and only for the user it belongs to. Null when there is none to
   * continue (a fresh connection follows).
   */
  async find(
    claim: ResumeClaim | undefined,
    userId: string,
  ): Promise<Connection | Deno.KvEntry<ConnectionRecord> | null> {
    if (!claim) return null;
    const { cid, session } = claim;
    const local = this.host.registry.get(cid);
    if (local) return local.session === session && local.user_id === userId ? local : null;
    const entry = await this.host.presence.entry(cid);
    const record = entry.value;
    if (!record || record.session !== session || record.user_id !== userId) return null;
    // Recorded here but not in the registry: it has ended.
    if (record.isolate === this.host.presence.isolate) return null;
    return entry as Deno.KvEntry<ConnectionRecord>;
  }

  /** The socket dropped without a goodbye: keep the connection for its grace period. */
  suspend(connection: Connection): void {
    if (connection.state !== ConnectionState.Open) return;
    connection.suspend();
    connection.graceTimer = setTimeout(
      () => this.host.drop(connection),
      this.host.limits.resumeGraceMs,
    );
  }

  /** Continues `connection` on `socket`, replaying what its client missed. */
  resumeHere(
    connection: Connection,
    socket: BindableSocket,
    received: number,
    identity: Identity & Credentials,
  ): Connection {
    const missed = connection.log.since(received);
    if (connection.closed) {
      this.host.drop(connection);
      return this.host.accept(socket, identity);
    }
    if (missed === null) {
      // Frames it never got are no longer kept: it cannot continue faithfully.
      this.host.drop(connection);
      return this.host.accept(socket, { ...identity, cid: connection.cid });
    }
    connection.resume(socket);
    // The new socket's credentials (a fresher token) are the ones that count now.
    connection.grant = identity.grant ?? null;
    connection.proof = identity.proof;
    this.host.bind(connection, socket);
    this.host.welcome(connection, true);
    for (const text of missed) connection.sendUncounted(text);
    return connection;
  }

  /**
   * Connection `cid` was resumed on another isolate: drop it here without a
   * word to its group or presence, and route on what its client missed.
   */
  release(cid: string, received: number): void {
    const connection = this.host.registry.get(cid);
    const missed = connection?.log.since(received) ?? null;
    if (connection) {
      this.host.registry.remove(connection);
      connection.close(CLOSE.normal, "Resumed on another server");
    }
    for (const text of missed ?? []) this.host.cluster.route({ cid }, text, 0);
    // After the frames, in their order: the taker knows it has them all (or not).
    this.host.cluster.route({ cid }, missed === null ? RELEASED.gap : RELEASED.all, 0);
  }

  /**
   * Continues here a connection of another isolate: same cid, same group,
   * no churn — once its old isolate has sent on every frame its client
   * missed. When that isolate is dead or lost some, the client starts
   * afresh under the same cid: its group sees it leave, and the welcome says
   * `resumed: false`.
   */
  takeOver(
    entry: Deno.KvEntry<ConnectionRecord>,
    socket: BindableSocket,
    received: number,
    identity: Identity & Credentials,
  ): Connection {
    const { cid, user_id, name, session, group } = entry.value;
    const { grant, proof } = identity;
    const connection = this.host.create(socket, { cid, user_id, name, session, grant, proof });
    connection.log.restartAt(received);
    // Until the hand-over, what is routed to it is only logged: the welcome goes first.
    connection.suspend();
    this.host.registry.add(connection);
    this.host.registry.setGroup(connection, group);
    this.host.bind(connection, socket);
    connection.queue = this.host.cluster.ready.then(() => this.host.presence.takeOver(entry)).then(
      async (ok) => {
        if (!ok) {
          // Swept or taken meanwhile: start afresh on this socket.
          this.host.registry.remove(connection);
          this.host.accept(socket, identity);
          return;
        }
        // Its old isolate, if alive, lets it go and sends on what it missed.
        const handedOver = this.#handover(cid);
        this.host.cluster.release(entry.value.isolate, cid, received);
        if (await handedOver) {
          connection.resume(socket);
          this.host.welcome(connection, true);
          for (const text of connection.log.since(received) ?? []) connection.sendUncounted(text);
          // Its socket dropped while it waited (that close was not its to handle).
          if (socket.readyState !== WebSocket.OPEN) this.suspend(connection);
          return;
        }
        // Frames it missed died with that isolate: never claim a resume with a gap.
        await this.host.forget(connection);
        if (socket.readyState === WebSocket.OPEN) this.host.accept(socket, { ...identity, cid });
      },
      (error) => {
        console.error("presence: cannot take over connection", error);
        connection.close(CLOSE.internal, "Cannot resume: try again");
      },
    );
    return connection;
  }
}
