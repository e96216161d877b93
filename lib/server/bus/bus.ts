// Over 300 lines: one class whose sending and receiving halves share the channel and the close.
/**
 * The bus: events from this isolate to the others of its deployment.
 *
 * Deno KV is the source of truth. Each isolate has an inbox; a sender writes
 * its events for isolate T under `["parley", "inbox", T, sender, seq, …]` and
 * bumps T's head key `["parley", "head", T]` in the same atomic commit. T
 * watches only its head (a watch coalesces rapid writes, so it is a doorbell,
 * not a log), lists its inbox, delivers, and deletes what it consumed. Every
 * entry carries `expireIn` only as a backstop.
 *
 * A `BroadcastChannel` is the fast path: it carries the same events with the
 * same `(sender, seq)`. It may drop, reorder or not exist at all; the
 * receiver delivers, per sender isolate, in seq order, each seq once —
 * whichever copy comes first — so the two paths together still give every
 * event exactly once and in its sender's order.
 *
 * Events bound for other isolates within one turn are batched: one atomic
 * commit (and one broadcast) carries them all, within KV's limits of 1,000
 * mutations and 800 KiB per commit and 64 KiB per value.
 *
 * An event is safe once its commit landed: the channel alone does not count
 * (it reaches only isolates of this process, and dies with it).
 * `publishCommitted` says when. A commit that fails is retried for as long
 * as it takes; nothing queued is ever thrown away while the bus is open. If
 * no commit lands for `unavailableAfterMs`, the callers waiting are told
 * (`BusUnavailableError`) and new `publishCommitted` calls are refused at
 * once until a commit lands again — their events stay queued and may still
 * arrive.
 *
 * @module
 */

import { BUS_KEYS, BUS_LIMITS, removeInbox } from "./keys.ts";
import { type Head, packCommit, type Packed, type Run } from "./pack.ts";
import { deleteEntries, drainInbox } from "./inbox.ts";
import { Sequencer } from "./sequencer.ts";

/** Options of {@linkcode Bus}. */
export interface BusOptions {
  /** The KV every isolate of the deployment shares. */
  kv: Deno.Kv;
  /** This isolate's id. */
  isolate: string;
  /** Called once per event addressed to this isolate, in each sender's order. */
  deliver: (line: string, sender: string) => void;
  /** Use a BroadcastChannel as the fast path. @default true */
  broadcast?: boolean;
  /** Test knob: the share of broadcasts the sender drops. @default 0 */
  broadcastDrop?: number;
  /** Backstop `expireIn` of inbox entries and heads (ms). @default 600000 */
  inboxExpireMs?: number;
  /** Name of the BroadcastChannel. @default "parley-bus" */
  channel?: string;
  /** Closes the bus when aborted. */
  signal?: AbortSignal;
  /**
   * How long commits may keep failing (or hang) before the callers of
   * `publishCommitted` are told the bus is unavailable (ms).
   * @default 5000
   */
  unavailableAfterMs?: number;
}

/**
 * KV kept failing: the events of a `publishCommitted` call are not known to
 * be committed. They stay queued (they may still arrive), but nobody may
 * count on them.
 *
 * @example
 * ```ts ignore
 * try {
 *   await bus.publishCommitted(["iso-b"], "hello");
 * } catch (error) {
 *   if (error instanceof BusUnavailableError) console.log("not known to be safe");
 * }
 * ```
 */
export class BusUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusUnavailableError";
  }
}

/** A caller of `publishCommitted`: waits until each target's seq is committed. */
interface Ticket {
  needs: Array<[target: string, seq: number]>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Counters of what the bus did, for tests and the benchmark. */
export interface BusStats {
  /** Events handed to `publish`, once per target isolate. */
  published: number;
  /** Atomic commits made to other inboxes. */
  commits: number;
  /** Events delivered from the KV copy (an entry, or the head that carries its copy). */
  fromKv: number;
  /** Listings of this isolate's inbox (a head that carried its commit's events needs none). */
  listings: number;
  /** Commits that only deleted consumed entries (most ride the outgoing commits). */
  deleteCommits: number;
  /** Events delivered from the BroadcastChannel copy. */
  fromBroadcast: number;
  /** Broadcast batches dropped on purpose (`broadcastDrop`). */
  dropped: number;
  /** Holes skipped because their entries were gone for good. */
  skipped: number;
  /** Commits that failed (each is retried). */
  failedCommits: number;
  /** `publishCommitted` calls told the bus is unavailable. */
  unavailable: number;
}

/** A commit on its way: kept whole until it lands (a failed one is sent again). */
interface InFlight {
  writes: Packed["writes"];
  counts: Packed["counts"];
  /** The consumed entries it deletes, by their key's text. */
  removals: string[];
  /** The last seq it carries to each target. */
  lasts: Map<string, number>;
  landed: boolean;
}

/** One broadcast: `[target, first seq, lines]` per target isolate. */
interface Broadcast {
  s: string;
  b: Array<[string, number, string[]]>;
}

function append(runs: Map<string, Run>, target: string, seq: number, line: string): void {
  const run = runs.get(target);
  if (run) run.lines.push(line);
  else runs.set(target, { first: seq, lines: [line] });
}

/**
 * Delivery of events across isolates.
 *
 * @example Two isolates on one KV
 * ```ts ignore
 * const a = new Bus({ kv, isolate: "iso-a", deliver: () => {} });
 * const b = new Bus({ kv, isolate: "iso-b", deliver: (line, from) => console.log(from, line) });
 * a.start();
 * b.start();
 * a.publish(["iso-b"], "hello"); // b logs "iso-a hello", once
 * await a.close();
 * await b.close();
 * ```
 */
export class Bus {
  readonly kv: Deno.Kv;
  readonly isolate: string;
  readonly stats: BusStats = {
    published: 0,
    commits: 0,
    fromKv: 0,
    listings: 0,
    deleteCommits: 0,
    fromBroadcast: 0,
    dropped: 0,
    skipped: 0,
    failedCommits: 0,
    unavailable: 0,
  };
  readonly #deliver: BusOptions["deliver"];
  readonly #expireIn: number;
  readonly #drop: number;
  readonly #channelName: string | null;
  #channel: BroadcastChannel | null = null;
  #watch: ReadableStreamDefaultReader<unknown> | null = null;
  /** The commit count of this isolate's inbox that the last doorbell saw (see `BUS_KEYS.count`). */
  #seenCount = -1n;
  #watching: Promise<void> | null = null;
  #poll: ReturnType<typeof setInterval> | undefined;

  // Sending.
  /** The last seq sent to each target isolate. */
  readonly #seq = new Map<string, number>();
  /** Events not yet committed to KV, per target. */
  #outbox = new Map<string, Run>();
  /** Events of this tick not yet broadcast, per target. */
  #tick = new Map<string, Run>();
  /** Whether a flush of this turn's events is queued (as a microtask). */
  #tickQueued = false;
  /**
   * Commits on their way, in the order they were made; at most
   * `BUS_LIMITS.commitsInFlight`, so a commit's latency is not paid once
   * per batch waiting behind it.
   */
  #inFlight: InFlight[] = [];
  /** Resolves when nothing is in flight (see `flush`). */
  #idle: PromiseWithResolvers<void> | null = null;
  /** Commits being retried after a failure: no new ones go out meanwhile. */
  #failing = 0;
  /** The last seq committed to each target isolate. */
  readonly #committed = new Map<string, number>();
  /** Callers of `publishCommitted` whose events are not all committed yet. */
  #tickets: Ticket[] = [];
  readonly #unavailableAfterMs: number;
  /** Fires when no commit has landed for `unavailableAfterMs`. */
  #stalled: ReturnType<typeof setTimeout> | undefined;
  /** No commit landed for `unavailableAfterMs`, and none since. */
  #unavailable = false;
  /** close() was called: give up retrying once unavailable. */
  #closeCalled = false;

  // Receiving.
  readonly #senders = new Map<string, Sequencer>();
  #draining: Promise<void> | null = null;
  /** Whether the last listing delivered anything (the channel had missed it). */
  #kvDelivered = true;
  #cleanup: ReturnType<typeof setTimeout> | undefined;
  /** Consumed entries whose delete is yet to commit, by their key's text. */
  readonly #consumed = new Map<string, Deno.KvKey>();
  /** Consumed entries a commit in flight deletes, by their key's text. */
  readonly #removing = new Set<string>();
  /** A delete of consumed entries that no outgoing commit took (see `deleteDelayMs`). */
  #deleteLater: ReturnType<typeof setTimeout> | undefined;
  #deleting: Promise<void> | null = null;
  #again = false;
  #retry: ReturnType<typeof setTimeout> | undefined;

  #started = false;
  #stopped = false;
  #closing: Promise<void> | null = null;

  constructor(options: BusOptions) {
    this.kv = options.kv;
    this.isolate = options.isolate;
    this.#deliver = options.deliver;
    this.#expireIn = options.inboxExpireMs ?? 600_000;
    this.#drop = options.broadcastDrop ?? 0;
    this.#unavailableAfterMs = options.unavailableAfterMs ?? 5_000;
    const broadcast = (options.broadcast ?? true) && typeof BroadcastChannel === "function";
    this.#channelName = broadcast ? options.channel ?? "parley-bus" : null;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Starts receiving: the watch of this isolate's head, the poll and the channel. */
  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    if (this.#channelName !== null) {
      this.#channel = new BroadcastChannel(this.#channelName);
      this.#channel.onmessage = (event) => this.#onBroadcast(event.data);
    }
    const reader = this.kv.watch<[unknown, unknown]>([
      BUS_KEYS.head(this.isolate),
      BUS_KEYS.count(this.isolate),
    ]).getReader();
    this.#watch = reader;
    this.#watching = (async () => {
      try {
        // Fires once at once (the current head), then on every change, coalesced.
        while (true) {
          const { done, value } = await reader.read();
          if (done) break;
          this.#doorbell(value[0].value, value[1].value);
        }
      } catch (error) {
        if (!this.#stopped) console.error("bus: the inbox watch failed", error);
      }
    })();
    this.#poll = setInterval(() => this.#drain(), BUS_LIMITS.pollMs);
    Deno.unrefTimer(Number(this.#poll));
  }

  /**
   * Sends `line` (no newline in it) to each isolate of `targets` (this one is
   * skipped). Never waits: the events go out with this tick's batch.
   *
   * @throws {TypeError} When `line` contains a newline.
   */
  publish(targets: Iterable<string>, line: string): void {
    this.#check(line);
    if (this.#stopped) {
      console.error("bus: event published after close was dropped");
      return;
    }
    this.#enqueue(targets, line);
  }

  /**
   * Sends `line` as {@linkcode publish} does, and resolves once the commit
   * that carries it to every target landed in KV (at once when every
   * target is this isolate). Rejects with {@linkcode BusUnavailableError}
   * when KV keeps failing (see `unavailableAfterMs`) or the bus is closed.
   *
   * @throws {TypeError} When `line` contains a newline.
   */
  publishCommitted(targets: Iterable<string>, line: string): Promise<void> {
    this.#check(line);
    if (this.#stopped || this.#closeCalled) {
      return Promise.reject(new BusUnavailableError("Cannot send as the bus is closing"));
    }
    if (this.#unavailable) {
      this.stats.unavailable++;
      return Promise.reject(this.#unavailableError());
    }
    const needs = this.#enqueue(targets, line);
    if (needs.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#tickets.push({ needs, resolve, reject }));
  }

  #check(line: string): void {
    if (line.includes("\n")) {
      throw new TypeError("Cannot publish the event as it contains a newline: send JSON text");
    }
    if (line.length > BUS_LIMITS.eventChars) {
      throw new RangeError(
        `Cannot publish the event as it must be at most ${BUS_LIMITS.eventChars} characters: current length is ${line.length}`,
      );
    }
  }

  /** Queues `line` for each target; says which seq it got for each. */
  #enqueue(targets: Iterable<string>, line: string): Array<[string, number]> {
    const needs: Array<[string, number]> = [];
    for (const target of targets) {
      if (target === this.isolate) continue;
      const seq = (this.#seq.get(target) ?? 0) + 1;
      this.#seq.set(target, seq);
      append(this.#outbox, target, seq, line);
      if (this.#channelName !== null) append(this.#tick, target, seq, line);
      this.stats.published++;
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
      `Cannot send to the other isolates as no KV commit has landed for ${this.#unavailableAfterMs} ms`,
    );
  }

  /** Resolves once every event published so far is committed to KV. */
  async flush(): Promise<void> {
    if (this.#tickQueued) this.#flushTick();
    while (this.#inFlight.length > 0) {
      this.#idle ??= Promise.withResolvers();
      await this.#idle.promise;
    }
  }

  /** Forgets what a dead isolate had sent ahead on the channel; it will not fill the hole. */
  forget(isolate: string): void {
    this.#senders.get(isolate)?.forget();
  }

  /**
   * Commits what is published, stops watching and listening, and removes
   * this isolate's inbox. Idempotent.
   */
  close(): Promise<void> {
    this.#closeCalled = true;
    this.#closing ??= (async () => {
      await this.flush();
      this.#stopped = true;
      clearInterval(this.#poll);
      clearTimeout(this.#retry);
      clearTimeout(this.#cleanup);
      clearTimeout(this.#deleteLater);
      this.#channel?.close();
      this.#channel = null;
      await this.#watch?.cancel().catch(() => {});
      await this.#watching;
      await this.#draining;
      await this.#deleting;
      if (this.#started) await removeInbox(this.kv, this.isolate);
    })();
    return this.#closing;
  }

  // --- SENDING ---

  #flushTick(): void {
    if (!this.#tickQueued) return; // flushed early by flush()
    this.#tickQueued = false;
    if (this.#tick.size > 0) {
      const batch: Broadcast = { s: this.isolate, b: [] };
      for (const [target, run] of this.#tick) batch.b.push([target, run.first, run.lines]);
      this.#tick = new Map();
      if (this.#drop > 0 && Math.random() < this.#drop) this.stats.dropped++;
      else this.#post(batch);
    }
    this.#pump();
  }

  #post(batch: Broadcast): void {
    if (!this.#channel) return; // not started, or closed
    try {
      this.#channel.postMessage(batch);
    } catch (error) {
      console.error("bus: cannot broadcast; KV still carries the events", error);
    }
  }

  /**
   * Commits the outbox: up to `commitsInFlight` commits at once, each
   * taking what the outbox holds when it is made, so events that come while
   * a commit is in flight do not wait for it to land. A receiver still gets
   * each sender's events in seq order, whichever commit lands first (its
   * sequencer holds what comes ahead of a hole). A failed commit is retried
   * until it lands, and no new one is made meanwhile: nothing queued is ever
   * thrown away, except at close once KV is unavailable (none of it was
   * acknowledged as safe by then). Each commit also deletes the entries this
   * isolate's last drains consumed, so they cost no commit of their own.
   */
  #pump(): void {
    while (
      this.#outbox.size > 0 && this.#failing === 0 &&
      this.#inFlight.length < BUS_LIMITS.commitsInFlight
    ) {
      this.#stalled ??= setTimeout(() => this.#giveUp(), this.#unavailableAfterMs);
      const commit = this.#nextCommit();
      this.#inFlight.push(commit);
      this.#send(commit);
    }
  }

  async #send(commit: InFlight): Promise<void> {
    let failures = 0;
    while (true) {
      const op = this.kv.atomic();
      const expireIn = this.#expireIn;
      for (const { key, value } of commit.writes) op.set(key, value, { expireIn });
      for (const key of commit.counts) op.sum(key, 1n);
      for (const id of commit.removals) {
        const key = this.#consumed.get(id);
        if (key) op.delete(key);
      }
      try {
        await op.commit();
        break;
      } catch (error) {
        this.stats.failedCommits++;
        if (this.#closeCalled && this.#unavailable) {
          console.error(`bus: closing; dropping ${this.#outbox.size} inboxes' unsafe events`);
          this.#outbox.clear();
          // Not committed: nothing of it counts as such.
          commit.writes = [];
          commit.counts = [];
          commit.lasts.clear();
          break;
        }
        if (failures++ === 0) this.#failing++;
        if (failures % 20 === 1) console.error("bus: commit failed; retrying", error);
        await new Promise((r) => setTimeout(r, Math.min(1_000, 10 * 2 ** Math.min(failures, 7))));
      }
    }
    if (failures > 0) this.#failing--;
    commit.landed = true;
    this.#landed();
  }

  /** Takes the commits that landed at the head of the line: their events count as committed. */
  #landed(): void {
    clearTimeout(this.#stalled);
    this.#stalled = undefined;
    this.#unavailable = false;
    while (this.#inFlight.length > 0 && this.#inFlight[0].landed) {
      const commit = this.#inFlight.shift()!;
      if (commit.writes.length > 0) this.stats.commits++;
      for (const [target, last] of commit.lasts) this.#committed.set(target, last);
      for (const id of commit.removals) {
        this.#consumed.delete(id);
        this.#removing.delete(id);
      }
    }
    if (this.#tickets.length > 0) this.#settle();
    if (this.#inFlight.length > 0) {
      this.#stalled = setTimeout(() => this.#giveUp(), this.#unavailableAfterMs);
    } else {
      this.#idle?.resolve();
      this.#idle = null;
    }
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
    this.stats.unavailable += tickets.length;
    const error = this.#unavailableError();
    for (const ticket of tickets) ticket.reject(error);
  }

  /**
   * Packs as much of the outbox as one commit takes, beside the deletes of
   * consumed entries no commit in flight carries yet; takes what it packed
   * out of the outbox.
   */
  #nextCommit(): InFlight {
    const removals: string[] = [];
    for (const id of this.#consumed.keys()) {
      if (removals.length === BUS_LIMITS.removalsPerCommit) break;
      if (!this.#removing.has(id)) removals.push(id);
    }
    for (const id of removals) this.#removing.add(id);
    const { writes, counts, taken } = packCommit(this.#outbox, this.isolate, {
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
    return { writes, counts, removals, lasts, landed: false };
  }

  // --- RECEIVING ---

  #sender(isolate: string): Sequencer {
    let sender = this.#senders.get(isolate);
    if (!sender) {
      sender = new Sequencer({
        buffered: BUS_LIMITS.bufferedPerSender,
        holeMs: BUS_LIMITS.holeMs,
        deliver: (line, via) => {
          if (via === "kv") this.stats.fromKv++;
          else this.stats.fromBroadcast++;
          this.#hand(line, isolate);
        },
        onSkip: (from, to) => {
          console.error(
            `bus: events ${from}–${to} from ${isolate} are gone from KV; skipping them`,
          );
          this.stats.skipped += to - from + 1;
        },
      });
      this.#senders.set(isolate, sender);
    }
    return sender;
  }

  #hand(line: string, from: string): void {
    try {
      this.#deliver(line, from);
    } catch (error) {
      console.error("bus: delivery failed", error);
    }
  }

  #onBroadcast(data: unknown): void {
    if (this.#stopped) return;
    const batch = data as Broadcast;
    if (typeof batch?.s !== "string" || batch.s === this.isolate || !Array.isArray(batch.b)) return;
    for (const [target, first, lines] of batch.b) {
      if (target !== this.isolate) continue;
      const sender = this.#sender(batch.s);
      for (let i = 0; i < lines.length; i++) sender.offer(first + i, lines[i]);
    }
  }

  /** Lists the inbox, delivers what is new, deletes what is consumed; one at a time. */
  #drain(): void {
    if (this.#stopped) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = (async () => {
      try {
        do {
          this.#again = false;
          await this.#drainOnce();
        } while (this.#again && !this.#stopped);
      } catch (error) {
        if (!this.#stopped) {
          console.error("bus: cannot read the inbox", error);
          this.#later(100);
        }
      } finally {
        this.#draining = null;
      }
    })();
  }

  #later(ms: number): void {
    if (this.#retry !== undefined || this.#stopped) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#drain();
    }, ms);
  }

  /**
   * The head changed. While the channel delivers everything, a listing only
   * finds entries to delete: it waits a little, so one serves many commits.
   * Once a listing delivers something (the channel dropped it, or there is
   * no channel), each doorbell lists at once.
   */
  #doorbell(head: unknown, count: unknown): void {
    const total = count instanceof Deno.KvU64 ? count.value : 0n;
    const only = total === this.#seenCount + 1n;
    this.#seenCount = total;
    // The one commit since the last doorbell, its events in the head: no listing.
    if (only && this.#fromHead(head)) return;
    if (this.#kvDelivered) return this.#drain();
    this.#cleanup ??= setTimeout(() => {
      this.#cleanup = undefined;
      this.#drain();
    }, BUS_LIMITS.cleanupDelayMs);
  }

  /**
   * Delivers the events a head carries (a copy of its commit's entries) if
   * they follow what their sender's sequencer has delivered, and counts its
   * entries consumed (their deletes ride the next commit). False when the
   * inbox must be listed instead: no events in the head, or a hole before
   * them (a commit of that sender that has not landed yet, or that the watch
   * coalesced away).
   */
  #fromHead(value: unknown): boolean {
    const head = value as Partial<Head> | null;
    const lines = head?.lines;
    if (
      this.#stopped || !Array.isArray(lines) || typeof head?.sender !== "string" ||
      typeof head.first !== "number" || !Array.isArray(head.entries)
    ) return false;
    const sequencer = this.#sender(head.sender);
    if (!sequencer.isDone(head.first, lines.length) && !sequencer.accept(head.first, lines)) {
      return false;
    }
    for (const seq of head.entries) {
      const key = BUS_KEYS.entry(this.isolate, head.sender, seq, 0, 1);
      this.#consumed.set(key.join("\0"), key);
    }
    this.#deleteSoon();
    // A listing held back by a hole this head may have filled: now, not later.
    if (this.#retry !== undefined) {
      clearTimeout(this.#retry);
      this.#retry = undefined;
      this.#drain();
    }
    return true;
  }

  async #drainOnce(): Promise<void> {
    const before = this.stats.fromKv;
    this.stats.listings++;
    const { again, consumed } = await drainInbox(
      this.kv,
      this.isolate,
      (from) => this.#sender(from),
      // Known at once, so the commit of the replies these deliveries cause
      // carries their deletes.
      (key) => this.#consumed.set(key.join("\0"), key),
    );
    // Only entries the channel had already delivered, and nothing held back:
    // the next doorbells can wait for one cleanup listing.
    this.#kvDelivered = this.#channel === null || consumed.length === 0 ||
      this.stats.fromKv > before || again;
    this.#deleteSoon();
    // A hole, or a large event cut off at the end of the listing: look again soon.
    if (again) this.#later(20);
  }

  /**
   * Deletes what was consumed and no outgoing commit took, after
   * `deleteDelayMs` (an outgoing commit may take it meanwhile), or at once
   * when a commit's worth waits. A drain does not wait for the deletes (a
   * listing that still sees the entries skips them: their seqs are
   * delivered).
   */
  #deleteSoon(): void {
    if (this.#consumed.size - this.#removing.size >= BUS_LIMITS.removalsPerCommit) {
      return this.#deleteConsumed();
    }
    this.#deleteLater ??= setTimeout(() => {
      this.#deleteLater = undefined;
      this.#deleteConsumed();
    }, BUS_LIMITS.deleteDelayMs);
  }

  /** Deletes the consumed entries no commit in flight deletes, one commit at a time. */
  #deleteConsumed(): void {
    if (this.#deleting || this.#stopped) return;
    this.#deleting = (async () => {
      while (true) {
        const batch: Array<[string, Deno.KvKey]> = [];
        for (const [id, key] of this.#consumed) {
          if (batch.length === BUS_LIMITS.commitMutations) break;
          if (!this.#removing.has(id)) batch.push([id, key]);
        }
        if (batch.length === 0) return;
        for (const [id] of batch) this.#removing.add(id);
        this.stats.deleteCommits++;
        try {
          await deleteEntries(this.kv, batch.map(([, key]) => key));
        } catch (error) {
          // The entries stay; the next drain consumes them again.
          if (!this.#stopped) console.error("bus: cannot delete consumed entries", error);
          return;
        } finally {
          for (const [id] of batch) {
            this.#consumed.delete(id);
            this.#removing.delete(id);
          }
        }
      }
    })().finally(() => (this.#deleting = null));
  }
}
