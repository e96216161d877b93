/**
 * This isolate's sockets, indexed by cid, user and group, so delivery to
 * local recipients is a map lookup and never waits for KV.
 *
 * @module
 */
import { roomAllowed } from "./auth.ts";
import type { Connection } from "./connection.ts";

/**
 * Where a frame goes: a group's members, a user's connections, or one cid.
 * `rooms` (an access token's grant) narrows a user or cid to its
 * connections that are in one of those rooms: the receiving side applies it,
 * so no isolate needs to know where the recipients are to enforce it.
 */
export type Target =
  | { group: string }
  | { user_id: string; rooms?: readonly string[] }
  | { cid: string; rooms?: readonly string[] };

/**
 * What takes the frames a target names: a connection, or a local recipient
 * of another kind (a PeerJS peer, see `lib/server/peerjs`).
 */
export interface Recipient {
  sendText(text: string): void;
}

const NONE: ReadonlySet<never> = new Set();

function addTo<K>(index: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = index.get(key);
  if (set) set.add(connection);
  else index.set(key, new Set([connection]));
}

function removeFrom<K>(index: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(connection);
  if (set.size === 0) index.delete(key);
}

/**
 * A user's connections: most users have one, held as itself (a `Set` of
 * one costs about 260 bytes more per user); a second one makes it a set.
 */
type OneOrMore = Connection | Set<Connection>;

/**
 * The connections of this isolate.
 *
 * @example
 * ```ts ignore
 * const registry = new Registry();
 * registry.add(connection);
 * registry.setGroup(connection, "lobby");
 * registry.resolve({ group: "lobby" }).size; // 1
 * ```
 */
export class Registry {
  readonly #byCid = new Map<string, Connection>();
  readonly #byUser = new Map<string, OneOrMore>();
  readonly #byGroup = new Map<string, Set<Connection>>();
  /** Recipients of other kinds, by their cid: frames reach them by cid only. */
  readonly #others = new Map<string, Recipient>();
  /**
   * Told of every connection added or moved (`present` true) and removed
   * (false): the cluster announces them to the other isolates.
   */
  onChange: ((connection: Connection, present: boolean) => void) | null = null;

  /** How many sockets and groups this isolate holds. */
  get counts(): { sockets: number; groups: number } {
    return { sockets: this.#byCid.size, groups: this.#byGroup.size };
  }

  /** Every connection of this isolate. */
  all(): IterableIterator<Connection> {
    return this.#byCid.values();
  }

  /** The connection `cid` of this isolate, if any. */
  get(cid: string): Connection | undefined {
    return this.#byCid.get(cid);
  }

  /** Whether this very connection is registered. */
  has(connection: Connection): boolean {
    return this.#byCid.get(connection.cid) === connection;
  }

  add(connection: Connection): void {
    this.#byCid.set(connection.cid, connection);
    const mine = this.#byUser.get(connection.user_id);
    if (mine === undefined) this.#byUser.set(connection.user_id, connection);
    else if (mine instanceof Set) mine.add(connection);
    else if (mine !== connection) this.#byUser.set(connection.user_id, new Set([mine, connection]));
    this.onChange?.(connection, true);
  }

  remove(connection: Connection): void {
    if (this.#byCid.get(connection.cid) !== connection) return;
    this.#byCid.delete(connection.cid);
    const mine = this.#byUser.get(connection.user_id);
    if (mine === connection) this.#byUser.delete(connection.user_id);
    else if (mine instanceof Set) {
      mine.delete(connection);
      if (mine.size === 0) this.#byUser.delete(connection.user_id);
    }
    if (connection.group !== null) removeFrom(this.#byGroup, connection.group, connection);
    this.onChange?.(connection, false);
  }

  /** Moves a connection to `group` (null: out of every group). */
  setGroup(connection: Connection, group: string | null): void {
    if (connection.group !== null) removeFrom(this.#byGroup, connection.group, connection);
    connection.group = group;
    if (group !== null) addTo(this.#byGroup, group, connection);
    if (this.has(connection)) this.onChange?.(connection, true);
  }

  /**
   * Registers a local recipient that is no connection (a PeerJS peer) under
   * `cid`, so what the bus brings for that cid reaches it; it is in no group
   * and no count. Returns its removal (idempotent).
   */
  addRecipient(cid: string, recipient: Recipient): () => void {
    this.#others.set(cid, recipient);
    return () => {
      if (this.#others.get(cid) === recipient) this.#others.delete(cid);
    };
  }

  /**
   * A user's connections as a set; a lone connection becomes one (kept) the
   * first time it is asked for, so a user that is sent to allocates once.
   */
  #userSet(user_id: string): ReadonlySet<Connection> {
    const mine = this.#byUser.get(user_id);
    if (mine === undefined || mine instanceof Set) return mine ?? NONE;
    const set = new Set([mine]);
    this.#byUser.set(user_id, set);
    return set;
  }

  /**
   * The local recipients a target names (within its `rooms`, when set: a
   * recipient that is no connection is in no room, so `rooms` excludes it).
   */
  resolve(target: Target): ReadonlySet<Recipient> {
    if ("group" in target) return this.#byGroup.get(target.group) ?? NONE;
    const rooms = target.rooms;
    if ("cid" in target && !this.#byCid.has(target.cid)) {
      const other = rooms === undefined ? this.#others.get(target.cid) : undefined;
      return other ? new Set([other]) : NONE;
    }
    const named: ReadonlySet<Connection> = "user_id" in target
      ? this.#userSet(target.user_id)
      : new Set([this.#byCid.get(target.cid)!]);
    if (rooms === undefined || named.size === 0) return named;
    return new Set(
      [...named].filter((c) => c.group !== null && roomAllowed(rooms, c.group)),
    );
  }
}
