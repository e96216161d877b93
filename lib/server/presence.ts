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
import {
  GroupCommits,
  type GroupWrite,
  type PresenceMutation,
  PresenceUnavailableError,
} from "./presence_commits.ts";

export { PresenceUnavailableError };

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

/** Tries of the other writes under a KV lock. */
const WRITE_ATTEMPTS = 10;

/** What a leave changes: the record, the user's index entry, the membership and its room's count. */
function leaveWrite(
  who: Pick<Member, "cid" | "user_id">,
  group: string | null,
): { mutations: PresenceMutation[]; counts: Array<[Deno.KvKey, bigint]> } {
  const mutations: PresenceMutation[] = [
    { type: "delete", key: PRESENCE_KEYS.connection(who.cid) },
    { type: "delete", key: PRESENCE_KEYS.userConnection(who.user_id, who.cid) },
  ];
  if (group === null) return { mutations, counts: [] };
  mutations.push({ type: "delete", key: PRESENCE_KEYS.member(group, who.cid) });
  return { mutations, counts: [[PRESENCE_KEYS.group(group), -1n]] };
}
/** The key part just after `k` in KV order: pages start past their last row. */
const after = (k: string) => k + "\0";

/** What a group's member index holds of a member. */
const memberOf = (who: Member) => ({ user_id: who.user_id, name: who.name });

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

  /** This isolate's connects, moves, renames and leaves, in group commits. */
  readonly #commits: GroupCommits;

  constructor(readonly kv: Deno.Kv, readonly isolate: string) {
    this.#commits = new GroupCommits(kv, { afterLowered: (groups) => this.#dropEmpty(groups) });
  }

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

  /** Records a new connection (in no group yet), in the next group commit. */
  connect(who: Member): Promise<void> {
    return this.#serial(who.cid, () =>
      this.#write([
        { type: "set", key: PRESENCE_KEYS.connection(who.cid), value: this.#record(who, null) },
        {
          type: "set",
          key: PRESENCE_KEYS.userConnection(who.user_id, who.cid),
          value: { isolate: this.isolate },
        },
      ], [])).then(() => {});
  }

  /**
   * Moves a connection from group `from` to group `to` (either may be null).
   * With a `cap`, the move lands only while `to` has fewer than `cap`
   * members: the counter's versionstamp is checked in the same commit (and
   * the commit tried again when another isolate's join or leave got in
   * first), so concurrent joins on any number of isolates admit exactly the
   * cap. This isolate's moves share group commits with its other presence
   * writes, so a crowd costs few round trips. Resolves to false, having
   * changed nothing, when `to` is full; rejects with
   * {@linkcode PresenceUnavailableError} when KV keeps failing.
   */
  move(who: Member, from: string | null, to: string | null, cap = Infinity): Promise<boolean> {
    const mutations: PresenceMutation[] = [
      { type: "set", key: PRESENCE_KEYS.connection(who.cid), value: this.#record(who, to) },
    ];
    const counts: Array<[Deno.KvKey, bigint]> = [];
    if (from !== null) {
      mutations.push({ type: "delete", key: PRESENCE_KEYS.member(from, who.cid) });
      counts.push([PRESENCE_KEYS.group(from), -1n]);
    }
    if (to !== null) {
      mutations.push({ type: "set", key: PRESENCE_KEYS.member(to, who.cid), value: memberOf(who) });
      counts.push([PRESENCE_KEYS.group(to), 1n]);
    }
    const limit = to !== null && Number.isFinite(cap)
      ? { key: PRESENCE_KEYS.group(to), limit: cap }
      : undefined;
    return this.#serial(who.cid, () => this.#write(mutations, counts, limit));
  }

  /** Stores a new display name, in the next group commit. */
  rename(who: Member, group: string | null): Promise<void> {
    const mutations: PresenceMutation[] = [
      { type: "set", key: PRESENCE_KEYS.connection(who.cid), value: this.#record(who, group) },
    ];
    if (group !== null) {
      mutations.push({
        type: "set",
        key: PRESENCE_KEYS.member(group, who.cid),
        value: memberOf(who),
      });
    }
    return this.#serial(who.cid, () => this.#write(mutations, [])).then(() => {});
  }

  #write(
    mutations: PresenceMutation[],
    counts: Array<[Deno.KvKey, bigint]>,
    cap?: GroupWrite["cap"],
    attempts = WRITE_ATTEMPTS,
  ): Promise<boolean> {
    return this.#commits.write({ mutations, counts, cap, attempts });
  }

  /**
   * Removes a connection and its group membership, tried
   * {@linkcode LEAVE_ATTEMPTS} times while KV is locked (each attempt waits
   * out SQLite's 5 s busy timeout first). When it still fails, the
   * presence repair (`presence_repair.ts`) removes the record later (it is
   * this isolate's and no longer live).
   */
  disconnect(who: Member, group: string | null): Promise<void> {
    const { mutations, counts } = leaveWrite(who, group);
    return this.#serial(who.cid, () => this.#write(mutations, counts, undefined, LEAVE_ATTEMPTS))
      .then(() => {});
  }

  /** Whether a write of connection `cid` is under way (a repair leaves it to that write). */
  writing(cid: string): boolean {
    return this.#chains.has(cid);
  }

  /**
   * Removes the connection of `entry` (of an isolate that died, or a stale
   * one of this isolate's), with its membership and its room's count, unless
   * its record changed since `entry` was read; true when this call removed
   * it (so the caller alone tells its group).
   */
  async evict(entry: Deno.KvEntry<ConnectionRecord>): Promise<boolean> {
    const { group } = entry.value;
    const { mutations, counts } = leaveWrite(entry.value, group);
    const { ok } = await retryLocked(() => {
      const op = this.kv.atomic().check(entry);
      for (const { key } of mutations) op.delete(key);
      for (const [key, delta] of counts) op.sum(key, BigInt.asUintN(64, delta));
      return op.commit();
    });
    if (ok && group !== null) await this.#dropEmpty([PRESENCE_KEYS.group(group)]);
    return ok;
  }

  /** Deletes the counters of `groups` that reached zero, unless someone joined meanwhile. */
  async #dropEmpty(groups: readonly Deno.KvKey[]): Promise<void> {
    // A read takes 10 keys at most, and a commit 10 checks.
    for (let i = 0; i < groups.length; i += 10) {
      const counters = await retryLocked(() =>
        this.kv.getMany<Deno.KvU64[]>(groups.slice(i, i + 10))
      );
      const empty = counters.filter((c) => c.value !== null && c.value.value === 0n);
      if (empty.length === 0) continue;
      const { ok } = await retryLocked(() => {
        const op = this.kv.atomic();
        for (const counter of empty) op.check(counter).delete(counter.key);
        return op.commit();
      });
      // Someone joined one of them meanwhile: the others still go, each on its own check.
      if (!ok && empty.length > 1) {
        for (const counter of empty) {
          await retryLocked(() => this.kv.atomic().check(counter).delete(counter.key).commit());
        }
      }
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
