// Over 300 lines: the packer and the committer share the limits, the cap and why a failed check splits a batch.
/**
 * Group commits of presence writes: the connects, joins, renames and leaves
 * asked for within one tick, or while a commit is in flight, go out
 * together in as few atomic KV commits as KV's limits allow. Each caller
 * still learns of its own write: its promise settles when the commit that
 * carries it lands, or fails with {@linkcode PresenceUnavailableError}.
 *
 * Counters are KV sums, so the joins and leaves of one group in a batch
 * become one mutation. A capped join (a room with a user limit) is checked
 * against its room's counter, read just before the commit and checked by
 * versionstamp in it, so joins racing on any number of isolates admit
 * exactly the cap; the joins past the cap are refused by that same read.
 * When a check fails (another isolate's join or leave got in first), the
 * batch is split: the unchecked writes land at once, and each room's joins
 * are read and tried again on their own, so one busy room never holds up
 * anyone else's write.
 *
 * This module knows no presence keys: `Presence` (their owner) says what
 * each write changes.
 *
 * @module
 */
import { isLocked } from "./kv_retry.ts";
import { RequestError } from "./requests.ts";

/** A key-value change of a presence write (counters go in {@linkcode GroupWrite.counts}). */
export type PresenceMutation =
  | { type: "set"; key: Deno.KvKey; value: unknown }
  | { type: "delete"; key: Deno.KvKey };

/** One caller's write. */
export interface GroupWrite {
  mutations: PresenceMutation[];
  /** Changes of counters (KV sums, added up across the batch): key and delta. */
  counts: Array<[Deno.KvKey, bigint]>;
  /** The write lands only while counter `key` is below `limit` (it adds one to it). */
  cap?: { key: Deno.KvKey; limit: number };
  /** Tries in a row that KV may refuse as locked before the write fails. */
  attempts: number;
}

/** The limits one commit is packed to, under Deno KV's. */
export interface CommitLimits {
  /** KV allows 1,000. */
  mutations: number;
  /** Keys of mutations and checks (KV allows 81,920 bytes). */
  keyBytes: number;
  /** Keys and values (KV allows 819,200 bytes). */
  bytes: number;
  /** Checked counters (Deno Deploy's KV allows 10; a local one 100). */
  checks: number;
}

/** What presence commits keep to. */
export const PRESENCE_COMMIT_LIMITS: CommitLimits = {
  mutations: 1_000,
  keyBytes: 76_000,
  bytes: 700_000,
  checks: 10,
};

/**
 * A presence write that did not land because KV kept failing (a locked
 * database past the write's tries, a closed store). Its code is
 * `UNAVAILABLE`: the request may be retried.
 *
 * @example
 * ```ts ignore
 * try {
 *   await presence.move(who, null, "lobby");
 * } catch (error) {
 *   if (error instanceof PresenceUnavailableError) console.log(error.code); // "UNAVAILABLE"
 * }
 * ```
 */
export class PresenceUnavailableError extends RequestError {
  constructor(cause: unknown) {
    super(
      "UNAVAILABLE",
      "Cannot record presence as the shared store (Deno KV) keeps failing: retry later",
    );
    this.name = "PresenceUnavailableError";
    this.cause = cause;
  }
}

/**
 * The UTF-8 bytes of `text`, each zero byte counted twice (KV's key
 * encoding escapes it), counted without encoding: a connect burst sizes
 * thousands of keys.
 */
function keyStringBytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) bytes++;
    // Two bytes up to U+07FF, three above; a surrogate pair's halves make four.
    else if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return bytes;
}

/** An upper bound of the bytes KV's key encoding takes for `key`. */
export function keyBytes(key: Deno.KvKey): number {
  let bytes = 0;
  for (const part of key) {
    // A string or bytes: a tag, the bytes (each zero byte escaped as two) and a terminator.
    if (typeof part === "string") bytes += 2 + keyStringBytes(part);
    else if (part instanceof Uint8Array) {
      bytes += 2 + part.byteLength + part.filter((b) => b === 0).length;
    } else bytes += 10 + String(part).length;
  }
  return bytes;
}

/** An upper bound of the bytes of `value` as KV stores it (V8 serialization). */
function valueBytes(value: unknown): number {
  return 32 + 2 * (JSON.stringify(value)?.length ?? 0);
}

const id = (key: Deno.KvKey) => JSON.stringify(key);

/** Each write's own mutations, key bytes and bytes, sized once (a batch may be looked at again). */
const sizes = new WeakMap<GroupWrite, { m: number; k: number; b: number }>();

function sizeOf(write: GroupWrite): { m: number; k: number; b: number } {
  let size = sizes.get(write);
  if (size) return size;
  size = { m: write.mutations.length, k: 0, b: 0 };
  for (const mutation of write.mutations) {
    const key = keyBytes(mutation.key);
    size.k += key;
    size.b += key + (mutation.type === "set" ? valueBytes(mutation.value) : 0);
  }
  sizes.set(write, size);
  return size;
}

/**
 * The writes of `queue` that one commit takes (their indexes, in order):
 * writes in order while they fit, skipping (for a later commit) the capped
 * joins of rooms beyond the checks a commit may make — all of a room's, so
 * each room's joins keep their order. Costs count every capped join as
 * admitted (a refused one costs nothing). Pure.
 *
 * @example
 * ```ts
 * import { PRESENCE_COMMIT_LIMITS, takeBatch } from "./presence_commits.ts";
 * const write = { mutations: [{ type: "delete" as const, key: ["a"] }], counts: [], attempts: 1 };
 * takeBatch([write, write], PRESENCE_COMMIT_LIMITS); // [0, 1]
 * ```
 */
export function takeBatch(queue: readonly GroupWrite[], limits: CommitLimits): number[] {
  const taken: number[] = [];
  const counters = new Set<string>();
  const checked = new Set<string>();
  let mutations = 0, keys = 0, bytes = 0;
  for (let i = 0; i < queue.length; i++) {
    const write = queue[i];
    const room = write.cap && id(write.cap.key);
    const newCheck = room !== undefined && !checked.has(room);
    if (newCheck && checked.size === limits.checks) continue;
    let { m, k, b } = sizeOf(write);
    const fresh = write.counts.filter(([key]) => !counters.has(id(key)));
    for (const [key] of fresh) {
      m++;
      k += keyBytes(key);
      b += keyBytes(key) + 32;
    }
    if (newCheck) k += keyBytes(write.cap!.key);
    const fits = mutations + m <= limits.mutations && keys + k <= limits.keyBytes &&
      bytes + b <= limits.bytes;
    // One write alone is always tried (KV then says what is wrong with it).
    if (!fits && taken.length > 0) break;
    taken.push(i);
    mutations += m, keys += k, bytes += b;
    for (const [key] of fresh) counters.add(id(key));
    if (newCheck) checked.add(room);
  }
  return taken;
}

/** A write waiting for its commit. */
interface Pending extends GroupWrite {
  /** Tries left before the write fails (reset when KV answers). */
  triesLeft: number;
  resolve: (landed: boolean) => void;
  reject: (error: Error) => void;
}

/** Options of {@linkcode GroupCommits}. */
export interface GroupCommitsOptions {
  limits?: CommitLimits;
  /**
   * Runs after each commit that lowered counters, with their keys, before
   * its writers hear of it (presence deletes the counters that reached zero).
   */
  afterLowered?: (counters: Deno.KvKey[]) => Promise<void>;
}

/**
 * The group committer of one isolate's presence writes: one commit in
 * flight at a time; what is asked for meanwhile goes out in the next.
 *
 * @example
 * ```ts ignore
 * const commits = new GroupCommits(kv);
 * await commits.write({ mutations: [{ type: "set", key: ["k"], value: 1 }], counts: [], attempts: 10 });
 * ```
 */
export class GroupCommits {
  #queue: Pending[] = [];
  #running = false;
  readonly #limits: CommitLimits;

  constructor(readonly kv: Deno.Kv, private readonly options: GroupCommitsOptions = {}) {
    this.#limits = options.limits ?? PRESENCE_COMMIT_LIMITS;
  }

  /**
   * Queues `write`; resolves to true once it landed, to false when its
   * room was full (nothing changed), or rejects with
   * {@linkcode PresenceUnavailableError}.
   */
  write(write: GroupWrite): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...write, triesLeft: write.attempts, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // The end of this turn: what else this tick asks for goes in the same commit.
      queueMicrotask(() => this.#run());
    });
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const picked = new Set(takeBatch(this.#queue, this.#limits));
        const batch = this.#queue.filter((_, i) => picked.has(i));
        this.#queue = this.#queue.filter((_, i) => !picked.has(i));
        await this.#land(batch, false);
      }
    } finally {
      this.#running = false;
    }
  }

  /** Commits `batch` until it lands or fails; splits it when a check fails. */
  async #land(batch: Pending[], split: boolean): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        const { landed, refused, ok, lowered } = await this.#commit(batch);
        if (ok) {
          if (lowered.length > 0) {
            await this.options.afterLowered?.(lowered).catch((error) =>
              console.error("presence: cannot drop empty groups", error)
            );
          }
          landed.forEach((write) => write.resolve(true));
          refused.forEach((write) => write.resolve(false));
          return;
        }
        // A checked counter changed since it was read: another isolate's join or leave.
        // KV answered, so the lock tries start again (as each retry of a read-and-commit would).
        for (const write of batch) write.triesLeft = write.attempts;
        if (!split) {
          const parts = new Map<string, Pending[]>();
          for (const write of batch) {
            const part = write.cap ? id(write.cap.key) : "";
            if (!parts.has(part)) parts.set(part, []);
            parts.get(part)!.push(write);
          }
          for (const part of parts.values()) await this.#land(part, true);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 3));
      } catch (error) {
        if (!isLocked(error)) {
          console.error("presence: a commit failed", error);
          batch.forEach((write) => write.reject(new PresenceUnavailableError(error)));
          return;
        }
        // Each write has its own tries (a leave gives up sooner, for the repair to finish it).
        const spent = batch.filter((write) => --write.triesLeft <= 0);
        if (spent.length > 0) console.error(`presence: ${spent.length} writes gave up`, error);
        spent.forEach((write) => write.reject(new PresenceUnavailableError(error)));
        batch = batch.filter((write) => write.triesLeft > 0);
        if (batch.length === 0) return;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  /** One try: reads the capped rooms' counters, admits up to each cap, commits. */
  async #commit(batch: Pending[]) {
    const rooms = new Map<string, Deno.KvKey>();
    for (const write of batch) if (write.cap) rooms.set(id(write.cap.key), write.cap.key);
    const entries = rooms.size === 0
      ? []
      : await this.kv.getMany<Deno.KvU64[]>([...rooms.values()]);
    const sizes = new Map<string, number>();
    const counters = new Map<string, Deno.KvEntryMaybe<Deno.KvU64>>();
    for (const entry of entries) {
      const members = Number(entry.value?.value ?? 0n);
      // A counter that wrapped below zero (a lost race of removals) reads huge: ignore it.
      sizes.set(id(entry.key), members < 2 ** 53 ? members : 0);
      counters.set(id(entry.key), entry);
    }
    const landed: Pending[] = [], refused: Pending[] = [];
    const checks = new Set<string>();
    for (const write of batch) {
      if (!write.cap) {
        landed.push(write);
        continue;
      }
      const room = id(write.cap.key);
      const members = sizes.get(room)!;
      if (members >= write.cap.limit) {
        refused.push(write);
        continue;
      }
      sizes.set(room, members + 1);
      checks.add(room);
      landed.push(write);
    }
    const sums = new Map<string, { key: Deno.KvKey; delta: bigint; lowered: boolean }>();
    const op = this.kv.atomic();
    for (const room of checks) op.check(counters.get(room)!);
    for (const write of landed) {
      for (const mutation of write.mutations) {
        if (mutation.type === "set") op.set(mutation.key, mutation.value);
        else op.delete(mutation.key);
      }
      for (const [key, delta] of write.counts) {
        const sum = sums.get(id(key)) ?? { key, delta: 0n, lowered: false };
        sum.delta += delta;
        sum.lowered ||= delta < 0n;
        sums.set(id(key), sum);
      }
    }
    // A KvU64 sum wraps at 2^64: adding 2^64 - n subtracts n.
    for (const { key, delta } of sums.values()) {
      if (delta !== 0n) op.sum(key, BigInt.asUintN(64, delta));
    }
    const lowered = [...sums.values()].filter((sum) => sum.lowered).map((sum) => sum.key);
    const ok = landed.length === 0 || (await op.commit()).ok;
    return { landed, refused, ok, lowered };
  }
}
