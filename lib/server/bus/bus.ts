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
 * @module
 */

import { BUS_KEYS, BUS_LIMITS, removeInbox } from "./keys.ts";
import { packCommit, type Run } from "./pack.ts";
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
}

/** Counters of what the bus did, for tests and the benchmark. */
export interface BusStats {
  /** Events handed to `publish`, once per target isolate. */
  published: number;
  /** Atomic commits made to other inboxes. */
  commits: number;
  /** Events delivered from the KV copy. */
  fromKv: number;
  /** Events delivered from the BroadcastChannel copy. */
  fromBroadcast: number;
  /** Broadcast batches dropped on purpose (`broadcastDrop`). */
  dropped: number;
  /** Holes skipped because their entries were gone for good. */
  skipped: number;
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
    fromBroadcast: 0,
    dropped: 0,
    skipped: 0,
  };
  readonly #deliver: BusOptions["deliver"];
  readonly #expireIn: number;
  readonly #drop: number;
  readonly #channelName: string | null;
  #channel: BroadcastChannel | null = null;
  #watch: ReadableStreamDefaultReader<unknown> | null = null;
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
  #committing: Promise<void> | null = null;

  // Receiving.
  readonly #senders = new Map<string, Sequencer>();
  #draining: Promise<void> | null = null;
  /** Whether the last listing delivered anything (the channel had missed it). */
  #kvDelivered = true;
  #cleanup: ReturnType<typeof setTimeout> | undefined;
  /** Consumed entries whose delete is yet to commit, by their key's text. */
  readonly #consumed = new Map<string, Deno.KvKey>();
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
    const reader = this.kv.watch([BUS_KEYS.head(this.isolate)]).getReader();
    this.#watch = reader;
    this.#watching = (async () => {
      try {
        // Fires once at once (the current head), then on every change, coalesced.
        while (!(await reader.read()).done) this.#doorbell();
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
    if (line.includes("\n")) {
      throw new TypeError("Cannot publish the event as it contains a newline: send JSON text");
    }
    if (line.length > BUS_LIMITS.eventChars) {
      throw new RangeError(
        `Cannot publish the event as it must be at most ${BUS_LIMITS.eventChars} characters: current length is ${line.length}`,
      );
    }
    if (this.#stopped) {
      console.error("bus: event published after close was dropped");
      return;
    }
    let any = false;
    for (const target of targets) {
      if (target === this.isolate) continue;
      const seq = (this.#seq.get(target) ?? 0) + 1;
      this.#seq.set(target, seq);
      append(this.#outbox, target, seq, line);
      if (this.#channelName !== null) append(this.#tick, target, seq, line);
      this.stats.published++;
      any = true;
    }
    if (any && !this.#tickQueued) {
      // A microtask, not a timer: the events of this turn still leave
      // together, but without a timer's delay (setTimeout(0) cost about 2 ms
      // a hop). Under load, KV commits batch anyway: one is in flight at a
      // time and the outbox fills meanwhile.
      this.#tickQueued = true;
      queueMicrotask(() => this.#flushTick());
    }
  }

  /** Resolves once every event published so far is committed to KV. */
  async flush(): Promise<void> {
    if (this.#tickQueued) this.#flushTick();
    while (this.#committing) await this.#committing;
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
    this.#closing ??= (async () => {
      await this.flush();
      this.#stopped = true;
      clearInterval(this.#poll);
      clearTimeout(this.#retry);
      clearTimeout(this.#cleanup);
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

  /** Commits the outbox, one commit at a time (so each inbox fills in seq order). */
  #pump(): void {
    if (this.#committing || this.#outbox.size === 0) return;
    this.#committing = (async () => {
      let failures = 0;
      while (this.#outbox.size > 0) {
        const { op, taken } = this.#nextCommit();
        try {
          await op.commit();
        } catch (error) {
          if (this.#stopped || ++failures > 20) {
            console.error(`bus: dropping ${this.#outbox.size} inboxes' events after`, error);
            this.#outbox.clear();
            return;
          }
          console.error("bus: commit failed; retrying", error);
          await new Promise((r) => setTimeout(r, Math.min(1_000, 10 * 2 ** failures)));
          continue;
        }
        failures = 0;
        this.stats.commits++;
        for (const [target, count] of taken) {
          const run = this.#outbox.get(target)!;
          run.lines.splice(0, count);
          run.first += count;
          if (run.lines.length === 0) this.#outbox.delete(target);
        }
      }
    })().finally(() => {
      this.#committing = null;
      this.#pump();
    });
  }

  /** Packs as much of the outbox as one commit takes; says how many events per target. */
  #nextCommit(): { op: Deno.AtomicOperation; taken: Map<string, number> } {
    const { writes, taken } = packCommit(this.#outbox, this.isolate);
    const op = this.kv.atomic();
    const expireIn = this.#expireIn;
    for (const { key, value } of writes) op.set(key, value, { expireIn });
    return { op, taken };
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
  #doorbell(): void {
    if (this.#kvDelivered) return this.#drain();
    this.#cleanup ??= setTimeout(() => {
      this.#cleanup = undefined;
      this.#drain();
    }, BUS_LIMITS.cleanupDelayMs);
  }

  async #drainOnce(): Promise<void> {
    const before = this.stats.fromKv;
    const { again, consumed } = await drainInbox(
      this.kv,
      this.isolate,
      (from) => this.#sender(from),
    );
    // Only entries the channel had already delivered, and nothing held back:
    // the next doorbells can wait for one cleanup listing.
    this.#kvDelivered = this.#channel === null || consumed.length === 0 ||
      this.stats.fromKv > before || again;
    for (const key of consumed) this.#consumed.set(key.join("\0"), key);
    this.#deleteConsumed();
    // A hole, or a large event cut off at the end of the listing: look again soon.
    if (again) this.#later(20);
  }

  /**
   * Deletes what was consumed, one commit at a time, beside the drains: a
   * drain does not wait for the last one's deletes (a listing that still
   * sees them skips them: their seqs are delivered).
   */
  #deleteConsumed(): void {
    if (this.#deleting || this.#consumed.size === 0) return;
    this.#deleting = (async () => {
      while (this.#consumed.size > 0) {
        const batch = [...this.#consumed].slice(0, BUS_LIMITS.commitMutations);
        try {
          await deleteEntries(this.kv, batch.map(([, key]) => key));
        } catch (error) {
          // The entries stay; the next drain consumes them again.
          if (!this.#stopped) console.error("bus: cannot delete consumed entries", error);
          this.#consumed.clear();
          return;
        }
        for (const [id] of batch) this.#consumed.delete(id);
      }
    })().finally(() => (this.#deleting = null));
  }
}
