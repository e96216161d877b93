/**
 * Sessions that outlive their sockets: a connection whose socket dropped
 * waits (suspended) for its client to resume it — here, with what it missed
 * replayed, or on another isolate, which takes it over while this one lets
 * it go and sends on what it kept.
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
  constructor(private readonly host: SessionHost) {}

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
    if (missed === null || connection.closed) {
      // Frames it never got are no longer kept: it cannot continue faithfully.
      this.host.drop(connection);
      return this.host.accept(socket, identity);
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
    if (!connection) return;
    const missed = connection.log.since(received) ?? [];
    this.host.registry.remove(connection);
    connection.close(CLOSE.normal, "Resumed on another server");
    for (const text of missed) this.host.cluster.route({ cid }, text, 0);
  }

  /** Continues here a connection of another isolate: same cid, same group, no churn. */
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
    this.host.registry.add(connection);
    this.host.registry.setGroup(connection, group);
    this.host.bind(connection, socket);
    connection.queue = this.host.cluster.ready.then(() => this.host.presence.takeOver(entry)).then(
      (ok) => {
        if (ok) {
          // Its old isolate, if alive, lets it go and sends on what it missed.
          this.host.cluster.release(entry.value.isolate, cid, received);
          return this.host.welcome(connection, true);
        }
        // Swept or taken meanwhile: start afresh on this socket.
        this.host.registry.remove(connection);
        this.host.accept(socket, identity);
      },
      (error) => {
        console.error("presence: cannot take over connection", error);
        connection.close(CLOSE.internal, "Cannot resume: try again");
      },
    );
    return connection;
  }
}
