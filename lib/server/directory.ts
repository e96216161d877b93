import { roomAllowed } from "./auth.ts";

/**
 * What this isolate knows of the others, so routing never waits on KV: the
 * live isolates, and where each remote connection is (its isolate, user and
 * group). The bus keeps it current — every isolate announces its
 * connections' connects, moves and ends to every live isolate — and
 * liveness prunes the isolates that died. No KV here: the cluster feeds it.
 *
 * @module
 */

/** A connection of another isolate, as announced by it. */
export interface RemoteConnection {
  isolate: string;
  user_id: string;
  group: string | null;
  /** When its isolate took it (ms since the epoch): a later taker wins. */
  since: number;
}

function addTo(index: Map<string, Set<string>>, key: string, cid: string): void {
  const set = index.get(key);
  if (set) set.add(cid);
  else index.set(key, new Set([cid]));
}

function removeFrom(index: Map<string, Set<string>>, key: string, cid: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(cid);
  if (set.size === 0) index.delete(key);
}

const NO_ISOLATES: readonly string[] = [];

/** Whether a connection is in one of `rooms` (any connection when `rooms` is undefined). */
function inRooms(connection: RemoteConnection, rooms: readonly string[] | undefined): boolean {
  return rooms === undefined || (connection.group !== null && roomAllowed(rooms, connection.group));
}

/** How long an ended connection is remembered as ended (ms). */
const GONE_MS = 60_000;
/** Most ended connections remembered. */
const GONE_MAX = 100_000;

/**
 * The other isolates of the deployment and their connections, as this
 * isolate knows them.
 *
 * @example
 * ```ts
 * import { Directory } from "./directory.ts";
 * const directory = new Directory("iso-a");
 * directory.heard("iso-b");
 * directory.place("iso-b", "cid:1", { user_id: "u1", group: "lobby", since: 1 });
 * directory.isolateOf("cid:1"); // "iso-b"
 * directory.groupSize("lobby"); // 1
 * ```
 */
export class Directory {
  /** Each live isolate, with when it was last heard from (ms, `performance.now()`). */
  readonly #isolates = new Map<string, number>();
  #list: readonly string[] = NO_ISOLATES;
  readonly #connections = new Map<string, RemoteConnection>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #byGroup = new Map<string, Set<string>>();
  readonly #byIsolate = new Map<string, Set<string>>();
  /**
   * Connections their isolate said ended: which isolate, and when (ms,
   * `performance.now()`). A presence record read in a repair may lag behind
   * the bus, and must not bring one back there.
   */
  readonly #gone = new Map<string, { isolate: string; at: number }>();

  constructor(readonly isolate: string) {}

  /** The other live isolates (the same array until the set changes). */
  get isolates(): readonly string[] {
    return this.#list;
  }

  /** How many remote connections are known. */
  get size(): number {
    return this.#connections.size;
  }

  /**
   * Isolate `iso` spoke (an announcement or any event): it is alive.
   * True when it was not known before.
   */
  heard(iso: string): boolean {
    if (iso === this.isolate) return false;
    const known = this.#isolates.has(iso);
    this.#isolates.set(iso, performance.now());
    if (!known) this.#list = [...this.#isolates.keys()];
    return !known;
  }

  /**
   * The live isolates as liveness last read them, in a read that started
   * at `startedAt` (`performance.now()`): an isolate missing from it is
   * forgotten (with its connections) unless it spoke after the read began.
   * Returns the isolates that were not known before.
   */
  refresh(live: Iterable<string>, startedAt: number): string[] {
    const alive = new Set(live);
    alive.delete(this.isolate);
    for (const [iso, lastHeard] of this.#isolates) {
      if (!alive.has(iso) && lastHeard < startedAt) this.forget(iso);
    }
    const added = [];
    for (const iso of alive) if (this.heard(iso)) added.push(iso);
    return added;
  }

  /** Isolate `iso` is dead or gone: forget it and the connections it held. */
  forget(iso: string): void {
    if (!this.#isolates.delete(iso)) return;
    this.#list = [...this.#isolates.keys()];
    for (const cid of [...(this.#byIsolate.get(iso) ?? [])]) this.#remove(cid);
  }

  /** Isolate `iso` says connection `cid` is there, with `user_id`, in `group`. */
  place(iso: string, cid: string, where: Omit<RemoteConnection, "isolate">): void {
    if (iso === this.isolate) return;
    const known = this.#connections.get(cid);
    // An announcement of the isolate it was taken from may arrive late.
    if (known && known.isolate !== iso && known.since > where.since) return;
    if (known) this.#remove(cid);
    this.#gone.delete(cid);
    const connection = { isolate: iso, ...where };
    this.#connections.set(cid, connection);
    addTo(this.#byUser, connection.user_id, cid);
    addTo(this.#byIsolate, iso, cid);
    if (connection.group !== null) addTo(this.#byGroup, connection.group, cid);
  }

  /** Isolate `iso` says connection `cid` ended there (ignored if it is elsewhere now). */
  remove(iso: string, cid: string): void {
    if (this.#connections.get(cid)?.isolate !== iso) return;
    this.#remove(cid);
    const now = performance.now();
    this.#gone.delete(cid);
    this.#gone.set(cid, { isolate: iso, at: now });
    // Oldest first (a Map keeps insertion order): drop what is old or too many.
    for (const [old, { at }] of this.#gone) {
      if (at > now - GONE_MS && this.#gone.size <= GONE_MAX) break;
      this.#gone.delete(old);
    }
  }

  /**
   * Whether isolate `iso` said connection `cid` ended there (within the last
   * minute), and it has not been placed anywhere since. A record that puts
   * it on another isolate (it was taken over) is not contradicted.
   */
  isGone(cid: string, iso: string): boolean {
    const gone = this.#gone.get(cid);
    return gone !== undefined && gone.isolate === iso && gone.at > performance.now() - GONE_MS;
  }

  #remove(cid: string): void {
    const connection = this.#connections.get(cid);
    if (!connection) return;
    this.#connections.delete(cid);
    removeFrom(this.#byUser, connection.user_id, cid);
    removeFrom(this.#byIsolate, connection.isolate, cid);
    if (connection.group !== null) removeFrom(this.#byGroup, connection.group, cid);
  }

  /**
   * The isolate of remote connection `cid` (in one of `rooms`, when given),
   * or undefined when none is known.
   */
  isolateOf(cid: string, rooms?: readonly string[]): string | undefined {
    const connection = this.#connections.get(cid);
    return connection && inRooms(connection, rooms) ? connection.isolate : undefined;
  }

  /**
   * The isolates of user `userId`'s remote connections (those in one of
   * `rooms`, when given), and how many connections.
   */
  userReach(userId: string, rooms?: readonly string[]): { isolates: string[]; count: number } {
    const cids = this.#byUser.get(userId);
    if (!cids) return { isolates: [], count: 0 };
    const isolates = new Set<string>();
    let count = 0;
    for (const cid of cids) {
      const connection = this.#connections.get(cid)!;
      if (!inRooms(connection, rooms)) continue;
      isolates.add(connection.isolate);
      count++;
    }
    return { isolates: [...isolates], count };
  }

  /** How many remote connections are in `group`. */
  groupSize(group: string): number {
    return this.#byGroup.get(group)?.size ?? 0;
  }
}
