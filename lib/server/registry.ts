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

const NONE: ReadonlySet<Connection> = new Set();

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
  }

  remove(connection: Connection): void {
    if (this.#byCid.get(connection.cid) !== connection) return;
    this.#byCid.delete(connection.cid);
    removeFrom(this.#byUser, connection.user_id, connection);
    if (connection.group !== null) removeFrom(this.#byGroup, connection.group, connection);
  }

  /** Moves a connection to `group` (null: out of every group). */
  setGroup(connection: Connection, group: string | null): void {
    if (connection.group !== null) removeFrom(this.#byGroup, connection.group, connection);
    connection.group = group;
    if (group !== null) addTo(this.#byGroup, group, connection);
  }

  /** The local connections a target names (within its `rooms`, when set). */
  resolve(target: Target): ReadonlySet<Connection> {
    if ("group" in target) return this.#byGroup.get(target.group) ?? NONE;
    const named = "user_id" in target ? this.#byUser.get(target.user_id) ?? NONE : (() => {
      const connection = this.#byCid.get(target.cid);
      return connection ? new Set([connection]) : NONE;
    })();
    const rooms = target.rooms;
    if (rooms === undefined || named.size === 0) return named;
    return new Set(
      [...named].filter((c) => c.group !== null && roomAllowed(rooms, c.group)),
    );
  }
}
