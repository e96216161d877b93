/**
 * The bus's sending half: events for other isolates, each numbered per
 * target (`seq`), broadcast at the end of the turn that published them and
 * committed to the targets' inboxes in KV.
 *
 * One commit is in flight at a time; what is published meanwhile goes in
 * the next. (With two, a later commit could land while an earlier one kept
 * failing, and the receiver would in time skip the gap and lose the earlier
 * one's events.) A failed commit is retried as long as it takes, so nothing
 * queued is ever thrown away while the bus is open. If none lands for
 * `unavailableAfterMs`, the callers waiting in `publishCommitted` are told
 * ({@linkcode BusUnavailableError}) and new ones are refused at once until
 * one lands again — their events stay queued and may still arrive.
 *
 * @module
 */
import type { ConsumedEntries } from "./consumed.ts";
import { BUS_LIMITS } from "./keys.ts";
import { packCommit, type Packed, type Run } from "./pack.ts";
import { type Broadcast, type BusStats, BusUnavailableError } from "./types.ts";

/** Options of {@linkcode Outbox}. */
export interface OutboxOptions {
  kv: Deno.Kv;
  isolate: string;
  /** The bus's counters (shared with the receiving half). */
  stats: BusStats;
  /** The entries this isolate consumed: each commit deletes some beside its events. */
  consumed: ConsumedEntries;
  /** Posts a broadcast; null without a channel. */
  post: ((batch: Broadcast) => void) | null;
  /** The share of broadcasts dropped on purpose (a test knob). */
  broadcastDrop: number;
  /** `expireIn` of inbox entries and heads (ms). */
  inboxExpireMs: number;
  /** How long commits may keep failing before callers are told (ms). */
  unavailableAfterMs: number;
}

/** A caller of `publishCommitted`: waits until each target's seq is committed. */
interface Ticket {
  needs: Array<[target: string, seq: number]>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A commit on its way: kept whole until it lands (a failed one is sent again). */
interface InFlight {
  writes: Packed["writes"];
  counts: Packed["counts"];
  /** The consumed entries it deletes. */
  removals: Array<[id: string, key: Deno.KvKey]>;
  /** The last seq it carries to each target. */
  lasts: Map<string, number>;
}

function append(runs: Map<string, Run>, target: string, seq: number, line: string): void {
  const run = runs.get(target);
  if (run) run.lines.push(line);
  else runs.set(target, { first: seq, lines: [line] });
}

/**
 * The sending half of a {@linkcode Bus} (which checks the lines and owns
 * the channel).
 *
 * @example
 * ```ts ignore
 * const outbox = new Outbox({ kv, isolate: "iso-a", stats, consumed, post: null, ...settings });
 * await outbox.publishCommitted(["iso-b"], "hello"); // in iso-b's inbox now
 * ```
 */
export class Outbox {
  readonly #options: OutboxOptions;
  /** The last seq sent to each target isolate. */
  readonly #seq = new Map<string, number>();
  /** Events not yet committed to KV, per target. */
  #outbox = new Map<string, Run>();
  /** Events of this turn not yet broadcast, per target. */
  #tick = new Map<string, Run>();
  /** Whether a flush of this turn's events is queued (as a microtask). */
  #tickQueued = false;
  /** The commit on its way (tried until it lands), if any. */
  #inFlight: InFlight | null = null;
  /** Resolves when nothing is in flight (see `flush`). */
  #idle: PromiseWithResolvers<void> | null = null;
  /** The last seq committed to each target isolate. */
  readonly #committed = new Map<string, number>();
  /** Callers of `publishCommitted` whose events are not all committed yet. */
  #tickets: Ticket[] = [];
  /** Fires when no commit has landed for `unavailableAfterMs`. */
  #stalled: ReturnType<typeof setTimeout> | undefined;
  /** No commit landed for `unavailableAfterMs`, and none since. */
  #unavailable = false;
  /** The bus is closing: give up retrying once unavailable. */
  #closing = false;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** Queues `line` for each target (this isolate is skipped); never waits. */
  publish(targets: Iterable<string>, line: string): void {
    this.#enqueue(targets, line);
  }
  /**
   * Queues `line` as {@linkcode publish} does; resolves once the commit that
   * carries it to every target landed (at once when no target is another
   * isolate). Rejects with {@linkcode BusUnavailableError} when KV keeps
   * failing.
   */
  publishCommitted(targets: Iterable<string>, line: string): Promise<void> {
    if (this.#unavailable) {
      this.#options.stats.unavailable++;
      return Promise.reject(this.#unavailableError());
    }
    const needs = this.#enqueue(targets, line);
    if (needs.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#tickets.push({ needs, resolve, reject }));
  }

  /** Resolves once every event queued so far is committed to KV. */
  async flush(): Promise<void> {
    if (this.#tickQueued) this.#flushTick();
    while (this.#inFlight !== null) {
      this.#idle ??= Promise.withResolvers();
      await this.#idle.promise;
    }
  }

  /** The bus closes: a commit still failing once KV is unavailable is dropped. */
  closing(): void {
    this.#closing = true;
  }

  /** Queues `line` for each target; says which seq it got for each. */
  #enqueue(targets: Iterable<string>, line: string): Array<[string, number]> {
    const { isolate, post, stats } = this.#options;
    const needs: Array<[string, number]> = [];
    for (const target of targets) {
      if (target === isolate) continue;
      const seq = (this.#seq.get(target) ?? 0) + 1;
      this.#seq.set(target, seq);
      append(this.#outbox, target, seq, line);
      if (post !== null) append(this.#tick, target, seq, line);
      stats.published++;
      needs.push([target, seq]);
    }
    if (needs.length > 0 && !this.#tickQueued) {
      // A microtask, not a timer: the events of this turn still leave
      // together, but without a timer's delay (setTimeout(0) cost about 2 ms
      // a hop). Under load, KV commits batch anyway: one is in flight at a
      // time and the outbox fills meanwhile.
      this.#tickQueued = true;
      queueMicrotask(() => this.#flushTick());
    }
    return needs;
  }

  #unavailableError(): BusUnavailableError {
    return new BusUnavailableError(
      `Cannot send to the other isolates as no KV commit has landed for ${this.#options.unavailableAfterMs} ms`,
    );
  }

  #flushTick(): void {
    if (!this.#tickQueued) return; // flushed early by flush()
    this.#tickQueued = false;
    const { post, stats, broadcastDrop } = this.#options;
    if (this.#tick.size > 0 && post !== null) {
      const batch: Broadcast = { s: this.#options.isolate, b: [] };
      for (const [target, run] of this.#tick) batch.b.push([target, run.first, run.lines]);
      this.#tick = new Map();
      if (broadcastDrop > 0 && Math.random() < broadcastDrop) stats.dropped++;
      else post(batch);
    }
    this.#pump();
  }

  /**
   * Commits what the outbox holds, once no commit is in flight. A receiver
   * gets each sender's events in seq order whichever path brings them (its
   * sequencer holds what comes ahead of a hole). Each commit also deletes
   * entries this isolate consumed, so they cost no commit of their own.
   */
  #pump(): void {
    if (this.#outbox.size === 0 || this.#inFlight !== null) return;
    this.#stalled ??= setTimeout(() => this.#giveUp(), this.#options.unavailableAfterMs);
    this.#inFlight = this.#nextCommit();
    this.#send(this.#inFlight);
  }

  /** Tries `commit` until it lands (or the bus closes while KV is unavailable). */
  async #send(commit: InFlight): Promise<void> {
    const { kv, stats, inboxExpireMs: expireIn } = this.#options;
    for (let failures = 1;; failures++) {
      const op = kv.atomic();
      for (const { key, value } of commit.writes) op.set(key, value, { expireIn });
      for (const key of commit.counts) op.sum(key, 1n);
      for (const [, key] of commit.removals) op.delete(key);
      try {
        await op.commit();
        break;
      } catch (error) {
        stats.failedCommits++;
        if (this.#closing && this.#unavailable) {
          console.error(`bus: closing; dropping ${this.#outbox.size} inboxes' unsafe events`);
          this.#outbox.clear();
          // Not committed: nothing of it counts as such.
          commit.writes = [];
          commit.lasts.clear();
          break;
        }
        if (failures % 20 === 1) console.error("bus: commit failed; retrying", error);
        await new Promise((r) => setTimeout(r, Math.min(1_000, 10 * 2 ** Math.min(failures, 7))));
      }
    }
    this.#landed(commit);
  }

  /** `commit` landed: its events count as committed; the next one goes. */
  #landed(commit: InFlight): void {
    clearTimeout(this.#stalled);
    this.#stalled = undefined;
    this.#unavailable = false;
    this.#inFlight = null;
    if (commit.writes.length > 0) this.#options.stats.commits++;
    for (const [target, last] of commit.lasts) this.#committed.set(target, last);
    this.#options.consumed.done(commit.removals.map(([id]) => id));
    if (this.#tickets.length > 0) this.#settle();
    this.#idle?.resolve();
    this.#idle = null;
    this.#pump();
  }

  /** Resolves the tickets whose events are all committed, in the order they were taken. */
  #settle(): void {
    const committed = this.#committed;
    this.#tickets = this.#tickets.filter((ticket) => {
      const done = ticket.needs.every(([target, seq]) => (committed.get(target) ?? 0) >= seq);
      if (done) ticket.resolve();
      return !done;
    });
  }

  /** No commit landed for `unavailableAfterMs`: the waiting callers are told. */
  #giveUp(): void {
    this.#stalled = undefined;
    this.#unavailable = true;
    const tickets = this.#tickets;
    this.#tickets = [];
    if (tickets.length > 0) {
      console.error(`bus: KV unavailable; ${tickets.length} sends not known to be safe`);
    }
    this.#options.stats.unavailable += tickets.length;
    const error = this.#unavailableError();
    for (const ticket of tickets) ticket.reject(error);
  }

  /**
   * Packs as much of the outbox as one commit takes, beside deletes of
   * consumed entries no commit in flight carries yet; takes what it packed
   * out of the outbox.
   */
  #nextCommit(): InFlight {
    const removals = this.#options.consumed.take(BUS_LIMITS.removalsPerCommit);
    const { writes, counts, taken } = packCommit(this.#outbox, this.#options.isolate, {
      ...BUS_LIMITS,
      commitMutations: BUS_LIMITS.commitMutations - removals.length,
      commitBytes: BUS_LIMITS.commitBytes - removals.length * BUS_LIMITS.keyBytes,
    });
    const lasts = new Map<string, number>();
    for (const [target, count] of taken) {
      const run = this.#outbox.get(target)!;
      run.lines.splice(0, count);
      run.first += count;
      lasts.set(target, run.first - 1);
      if (run.lines.length === 0) this.#outbox.delete(target);
    }
    return { writes, counts, removals, lasts };
  }
}
