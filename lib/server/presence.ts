// Over 300 lines: the one owner of the presence KV schema (records, member indexes, counters, capped joins).
/**
 * Presence in Deno KV: one record per connection, an index of each group's
 * members and of each user's connections, and a counter per group. KV is
 * the source of truth across isolates; this isolate's hub keeps its own
 * sockets in memory and never waits for KV to deliver to them.
 *
 * @module
 */
import type { GroupRow, GroupsRequest, Page, UserRow, UsersRequest } from "../protocol/mod.ts";
import { LIMITS } from "../protocol/mod.ts";
import type { Identity } from "./connection.ts";
import { retryLocked } from "./kv_retry.ts";

/** Who a connection is, and the secret its client resumes it with. */
export type Member = Identity & { session?: string };

/** A connection as presence stores it. */
export interface ConnectionRecord extends Identity {
  group: string | null;
  /** The secret that lets its client resume it, here or on another isolate. */
  session: string;
  /** The isolate whose socket this is. */
  isolate: string;
  /** When the connection opened (ms since the epoch). */
  since: number;
}

/** The KV keys of presence, in one place. */
export const PRESENCE_KEYS = {
  connection: (cid: string) => ["parley", "conn", cid] as const,
  connections: ["parley", "conn"] as const,
  member: (group: string, cid: string) => ["parley", "member", group, cid] as const,
  members: (group: string) => ["parley", "member", group] as const,
  userConnection: (userId: string, cid: string) => ["parley", "user", userId, cid] as const,
  userConnections: (userId: string) => ["parley", "user", userId] as const,
  group: (group: string) => ["parley", "group", group] as const,
  groups: ["parley", "group"] as const,
};

/** Tries of a leave's commit under a KV lock before it is left to the repair. */
export const LEAVE_ATTEMPTS = 3;

/** Joins of one room committed together at most (each is up to 4 mutations of KV's 1,000). */
export const JOIN_BATCH = 100;

/** A join waiting for its room's shared commit. */
interface PendingJoin {
  who: Member;
  from: string | null;
  resolve: (moved: boolean) => void;
  reject: (error: unknown) => void;
}

/** Adding this to a `KvU64` subtracts one (the sum wraps at 2^64). */
const MINUS_ONE = 0xffff_ffff_ffff_ffffn;
/** The key part just after `k` in KV order: pages start past their last row. */
const after = (k: string) => k + "\0";

/** What one page query of {@linkcode Presence.listUsers} takes. */
export type UsersQuery = Omit<UsersRequest, "type" | "id">;
/** What one page query of {@linkcode Presence.listGroups} takes. */
export type GroupsQuery = Omit<GroupsRequest, "type" | "id">;

/**
 * Presence of the connections of one isolate, kept in KV.
 *
 * @example
 * ```ts ignore
 * const presence = new Presence(kv, "iso-1");
 * await presence.connect({ cid, user_id, name });
 * await presence.move({ cid, user_id, name }, null, "lobby");
 * const page = await presence.listUsers({ group: "lobby" });
 * ```
 */
export class Presence {
  /** Writes of one connection are chained so they land in the order made. */
  #chains = new Map<string, Promise<unknown>>();

  constructor(readonly kv: Deno.Kv, readonly isolate: string) {}

  #serial<T>(cid: string, write: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(cid) ?? Promise.resolve();
    const next = previous.then(write, write);
    const tail = next.catch(() => {});
    this.#chains.set(cid, tail);
    tail.then(() => {
      if (this.#chains.get(cid) === tail) this.#chains.delete(cid);
    });
    return next;
  }

  #record(who: Member, group: string | null): ConnectionRecord {
    return {
      cid: who.cid,
      user_id: who.user_id,
      name: who.name,
      group,
      session: who.session ?? "",
      isolate: this.isolate,
      since: Date.now(),
    };
  }

  /** Records a new connection (in no group yet). */
  connect(who: Member): Promise<void> {
    return this.#serial(who.cid, async () => {
      await this.kv.atomic()
        .set(PRESENCE_KEYS.connection(who.cid), this.#record(who, null))
        .set(PRESENCE_KEYS.userConnection(who.user_id, who.cid), { isolate: this.isolate })
        .commit();
    });
  }

  /**
   * Moves a connection from group `from` to group `to` (either may be null).
   * With a `cap`, the move lands only while `to` has fewer than `cap`
   * members: the counter's versionstamp is checked in the same commit (and
   * the commit retried when another isolate's join or leave got in first),
   * so concurrent joins on any number of isolates admit exactly the cap.
   * This isolate's joins of one room share commits (up to
   * {@linkcode JOIN_BATCH}), so a crowd costs few round trips and no
   * retries among themselves. Resolves to false, having changed nothing,
   * when `to` is full.
   */
  move(who: Member, from: string | null, to: string | null, cap = Infinity): Promise<boolean> {
    return this.#serial(who.cid, async () => {
      if (to === null || !Number.isFinite(cap)) {
        await retryLocked(() => this.#commitMoves([{ who, from }], to, null));
      } else {
        const moved = await new Promise<boolean>((resolve, reject) => {
          const queue = this.#joins.get(to);
          if (queue) return queue.push({ who, from, resolve, reject });
          this.#joins.set(to, [{ who, from, resolve, reject }]);
          this.#admitJoins(to, cap);
        });
        if (!moved) return false;
      }
      if (from !== null) await this.#dropIfEmpty(from);
      return true;
    });
  }

  /** Joins of a capped room waiting for their shared commit, per room. */
  #joins = new Map<string, PendingJoin[]>();

  /** Commits the waiting joins of `room`, a batch at a time, until none wait. */
  async #admitJoins(room: string, cap: number): Promise<void> {
    const queue = this.#joins.get(room)!;
    let batch: PendingJoin[] = [];
    try {
      while (queue.length > 0) {
        batch = queue.splice(0, JOIN_BATCH);
        for (;;) {
          const counter = await retryLocked(() =>
            this.kv.get<Deno.KvU64>(PRESENCE_KEYS.group(room))
          );
          const members = Number(counter.value?.value ?? 0n);
          // A counter that wrapped below zero (a lost race of removals) reads huge: ignore it.
          const free = members < 2 ** 53 ? Math.max(0, cap - members) : cap;
          const admitted = batch.slice(0, free);
          const ok = admitted.length === 0 ||
            (await retryLocked(() => this.#commitMoves(admitted, room, counter))).ok;
          if (ok) {
            admitted.forEach((join) => join.resolve(true));
            batch.slice(admitted.length).forEach((join) => join.resolve(false));
            batch = [];
            break;
          }
          // Another isolate's join or leave changed the counter first: read it again.
          await new Promise((r) => setTimeout(r, Math.random() * 3));
        }
      }
    } catch (error) {
      // KV kept refusing: the batch in hand and those still waiting fail
      // with the error (the request answers it typed), none is left hanging.
      for (const join of [...batch, ...queue.splice(0)]) join.reject(error);
    } finally {
      this.#joins.delete(room);
    }
  }

  /** One commit of `moves` into `to`; checked against `counter` when given. */
  #commitMoves(
    moves: ReadonlyArray<{ who: Member; from: string | null }>,
    to: string | null,
    counter: Deno.KvEntryMaybe<Deno.KvU64> | null,
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const op = this.kv.atomic();
    if (counter) op.check(counter);
    // One sum per counter: leavers of each group, joiners of `to`.
    const leaving = new Map<string, bigint>();
    for (const { who, from } of moves) {
      op.set(PRESENCE_KEYS.connection(who.cid), this.#record(who, to));
      if (from !== null) {
        op.delete(PRESENCE_KEYS.member(from, who.cid));
        leaving.set(from, (leaving.get(from) ?? 0n) + 1n);
      }
      if (to !== null) {
        op.set(PRESENCE_KEYS.member(to, who.cid), { user_id: who.user_id, name: who.name });
      }
    }
    // Adding 2^64 - n subtracts n (the sum wraps at 2^64).
    for (const [group, n] of leaving) op.sum(PRESENCE_KEYS.group(group), MINUS_ONE + 1n - n);
    if (to !== null) op.sum(PRESENCE_KEYS.group(to), BigInt(moves.length));
    return op.commit();
  }

  /** Stores a new display name. */
  rename(who: Member, group: string | null): Promise<void> {
    return this.#serial(who.cid, async () => {
      const op = this.kv.atomic().set(
        PRESENCE_KEYS.connection(who.cid),
        this.#record(who, group),
      );
      if (group !== null) {
        op.set(PRESENCE_KEYS.member(group, who.cid), { user_id: who.user_id, name: who.name });
      }
      await op.commit();
    });
  }

  /**
   * Removes a connection and its group membership, tried
   * {@linkcode LEAVE_ATTEMPTS} times while KV is locked (each attempt waits
   * out SQLite's 5 s busy timeout first). When it still fails,
   * {@linkcode reconcile} removes the record later (it is this isolate's and
   * no longer live).
   */
  disconnect(who: Member, group: string | null): Promise<void> {
    return this.#serial(who.cid, async () => {
      await retryLocked(() => {
        const op = this.kv.atomic()
          .delete(PRESENCE_KEYS.connection(who.cid))
          .delete(PRESENCE_KEYS.userConnection(who.user_id, who.cid));
        if (group !== null) {
          op.delete(PRESENCE_KEYS.member(group, who.cid)).sum(
            PRESENCE_KEYS.group(group),
            MINUS_ONE,
          );
        }
        return op.commit();
      }, LEAVE_ATTEMPTS);
      if (group !== null) await this.#dropIfEmpty(group);
    });
  }

  /**
   * Repairs what failed writes left behind: removes this isolate's records
   * of connections that are not `live` (a leave KV refused), each in one
   * checked commit with its membership and its room's count, so counts
   * never drift from members. Connections with a write under way are left
   * to it. Resolves to how many records were removed.
   *
   * @example
   * ```ts ignore
   * const repaired = await presence.reconcile((cid) => registry.get(cid) !== undefined);
   * ```
   */
  async reconcile(live: (cid: string) => boolean): Promise<number> {
    // Asked again just before each removal: a connection may arrive meanwhile.
    const stale = (cid: string) => !live(cid) && !this.#chains.has(cid);
    const found: Deno.KvEntry<ConnectionRecord>[] = [];
    const entries = this.kv.list<ConnectionRecord>({ prefix: PRESENCE_KEYS.connections });
    for await (const entry of entries) {
      if (entry.value.isolate === this.isolate && stale(entry.value.cid)) found.push(entry);
    }
    let removed = 0;
    for (const entry of found) {
      if (stale(entry.value.cid) && await this.evict(entry)) removed++;
    }
    return removed;
  }

  /**
   * Removes the connection of another isolate that died, unless its record
   * changed since `entry` was read; true when this call removed it (so the
   * caller alone tells its group).
   */
  async evict(entry: Deno.KvEntry<ConnectionRecord>): Promise<boolean> {
    const { cid, user_id, group } = entry.value;
    const { ok } = await retryLocked(() => {
      const op = this.kv.atomic()
        .check(entry)
        .delete(PRESENCE_KEYS.connection(cid))
        .delete(PRESENCE_KEYS.userConnection(user_id, cid));
      if (group !== null) {
        op.delete(PRESENCE_KEYS.member(group, cid)).sum(PRESENCE_KEYS.group(group), MINUS_ONE);
      }
      return op.commit();
    });
    if (ok && group !== null) await this.#dropIfEmpty(group);
    return ok;
  }

  /** Deletes a group's counter once it reaches zero, unless someone joined meanwhile. */
  async #dropIfEmpty(group: string): Promise<void> {
    const counter = await retryLocked(() => this.kv.get<Deno.KvU64>(PRESENCE_KEYS.group(group)));
    if (counter.value !== null && counter.value.value === 0n) {
      await retryLocked(() =>
        this.kv.atomic().check(counter).delete(PRESENCE_KEYS.group(group)).commit()
      );
    }
  }

  /**
   * Moves connection `entry` (of a dead isolate) to this isolate, for its
   * resuming client. False when the record changed meanwhile (swept, or
   * taken over by another isolate).
   */
  async takeOver(entry: Deno.KvEntry<ConnectionRecord>): Promise<boolean> {
    const { cid, user_id } = entry.value;
    const { ok } = await this.kv.atomic()
      .check(entry)
      .set(PRESENCE_KEYS.connection(cid), { ...entry.value, isolate: this.isolate })
      .set(PRESENCE_KEYS.userConnection(user_id, cid), { isolate: this.isolate })
      .commit();
    return ok;
  }

  /** The KV entry of connection `cid`, wherever it is (value null when none). */
  entry(cid: string): Promise<Deno.KvEntryMaybe<ConnectionRecord>> {
    return this.kv.get<ConnectionRecord>(PRESENCE_KEYS.connection(cid));
  }

  /** The record of connection `cid`, wherever it is, or null. */
  async lookup(cid: string): Promise<ConnectionRecord | null> {
    return (await this.kv.get<ConnectionRecord>(PRESENCE_KEYS.connection(cid))).value;
  }

  /** Every connection record of every isolate, as KV entries (for the sweeps of dead isolates). */
  allConnections(): Deno.KvListIterator<ConnectionRecord> {
    return this.kv.list<ConnectionRecord>({ prefix: PRESENCE_KEYS.connections });
  }

  /** The connections of user `userId` across every isolate. */
  async connectionsOf(userId: string): Promise<Array<{ cid: string; isolate: string }>> {
    const rows = [];
    const entries = this.kv.list<{ isolate: string }>({
      prefix: PRESENCE_KEYS.userConnections(userId),
    });
    for await (const entry of entries) {
      rows.push({ cid: entry.key.at(-1) as string, isolate: entry.value.isolate });
    }
    return rows;
  }

  /** One page of the connections in a group, ordered by cid. */
  listUsers(query: UsersQuery): Promise<Page<UserRow>> {
    return this.#page<{ user_id: string; name: string }, UserRow>(
      PRESENCE_KEYS.members(query.group),
      query,
      (cid, value) =>
        query.user_id === undefined || value.user_id === query.user_id
          ? { user_id: value.user_id, cid, name: value.name }
          : null,
    );
  }

  /**
   * One page of the live groups and their sizes, ordered by name; only
   * those `visible` accepts (an access token's rooms), when given.
   */
  listGroups(
    query: GroupsQuery,
    visible: (group: string) => boolean = () => true,
  ): Promise<Page<GroupRow>> {
    const match = groupFilter(query);
    return this.#page<Deno.KvU64, GroupRow>(PRESENCE_KEYS.groups, query, (group, counter) => {
      const row = { group, number_of_users: Number(counter.value) };
      return row.number_of_users > 0 && visible(group) && match(row) ? row : null;
    });
  }

  /**
   * Reads rows under `prefix` from past `startKey` until a page is full. A
   * row is fetched beyond the page to know whether it is the last one.
   */
  async #page<V, Row>(
    prefix: readonly string[],
    query: { limit?: number; startKey?: string; ascending?: boolean },
    toRow: (lastKeyPart: string, value: V) => Row | null,
  ): Promise<Page<Row>> {
    const limit = query.limit ?? LIMITS.defaultPageSize;
    const ascending = query.ascending ?? true;
    const from = query.startKey && query.startKey !== "end" ? query.startKey : undefined;
    const selector: Deno.KvListSelector = from === undefined
      ? { prefix: [...prefix] }
      : ascending
      ? { prefix: [...prefix], start: [...prefix, after(from)] }
      : { prefix: [...prefix], end: [...prefix, from] };
    const list: Row[] = [];
    let lastKey = "";
    for await (const entry of this.kv.list<V>(selector, { reverse: !ascending, batchSize: 500 })) {
      const key = entry.key.at(-1) as string;
      const row = toRow(key, entry.value);
      if (row === null) continue;
      if (list.length === limit) return { list, startKey: lastKey, endOfList: false };
      list.push(row);
      lastKey = key;
    }
    return { list, startKey: "end", endOfList: true };
  }
}

/**
 * Skapi's group search: without a value (or with Skapi's default `" "`)
 * every group; a value without a condition is an exact match; `>=` on a
 * name means "starts with"; `range` means from `value` to `range`.
 */
function groupFilter(query: GroupsQuery): (row: GroupRow) => boolean {
  const { searchFor = "group", value, range } = query;
  if (value === undefined || (searchFor === "group" && value.toString().trim() === "")) {
    return () => true;
  }
  const pick = (row: GroupRow) => searchFor === "group" ? row.group : row.number_of_users;
  if (range !== undefined) return (row) => pick(row) >= value && pick(row) <= range;
  const condition = query.condition ?? "=";
  if (searchFor === "group" && (condition === ">=" || condition === "gte")) {
    return (row) => row.group.startsWith(String(value));
  }
  const compare: Record<string, (a: string | number, b: string | number) => boolean> = {
    ">": (a, b) => a > b,
    ">=": (a, b) => a >= b,
    "=": (a, b) => a === b,
    "<": (a, b) => a < b,
    "<=": (a, b) => a <= b,
    "!=": (a, b) => a !== b,
  };
  const aliases: Record<string, string> = {
    gt: ">",
    gte: ">=",
    eq: "=",
    lt: "<",
    lte: "<=",
    ne: "!=",
  };
  const test = compare[aliases[condition] ?? condition];
  return (row) => test(pick(row), value);
}
