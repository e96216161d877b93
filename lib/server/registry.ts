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
  readonly #byUser = new Map<string, Set<Connection>>();
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
    addTo(this.#byUser, connection.user_id, connection);
    this.onChange?.(connection, true);
  }

  remove(connection: Connection): void {
    if (this.#byCid.get(connection.cid) !== connection) return;
    this.#byCid.delete(connection.cid);
    removeFrom(this.#byUser, connection.user_id, connection);
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
      ? this.#byUser.get(target.user_id) ?? NONE
      : new Set([this.#byCid.get(target.cid)!]);
    if (rooms === undefined || named.size === 0) return named;
    return new Set(
      [...named].filter((c) => c.group !== null && roomAllowed(rooms, c.group)),
    );
  }
}
