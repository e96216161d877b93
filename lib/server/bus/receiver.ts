/**
 * The bus's receiving half: this isolate's inbox. It watches only its head
 * (a watch coalesces rapid writes, so it is a doorbell, not a log), lists
 * the inbox when the head alone does not carry what is new, and hands the
 * events of each sender on in that sender's order, each once — whichever
 * copy (the channel's, the head's, the entries') comes first. Consumed
 * entries are deleted, mostly by the sending half's next commit.
 *
 * @module
 */
import type { ConsumedEntries } from "./consumed.ts";
import { deleteEntries, drainInbox } from "./inbox.ts";
import { BUS_KEYS, BUS_LIMITS } from "./keys.ts";
import type { Head } from "./pack.ts";
import { Sequencer } from "./sequencer.ts";
import type { Broadcast, BusStats } from "./types.ts";

/** Options of {@linkcode Receiver}. */
export interface ReceiverOptions {
  kv: Deno.Kv;
  isolate: string;
  /** Called once per event addressed to this isolate, in each sender's order. */
  deliver: (line: string, sender: string) => void;
  /** The bus's counters (shared with the sending half). */
  stats: BusStats;
  /** The entries consumed here, whose deletes the sending half's commits carry. */
  consumed: ConsumedEntries;
  /** Whether a channel brings copies of the events (else only KV does). */
  broadcast: boolean;
}

/**
 * The receiving half of a {@linkcode Bus} (which owns the channel and hands
 * its batches to {@linkcode Receiver.offer}).
 *
 * @example
 * ```ts ignore
 * const receiver = new Receiver({ kv, isolate: "iso-b", deliver: console.log, stats, consumed, broadcast: false });
 * receiver.start();
 * await receiver.stop();
 * ```
 */
export class Receiver {
  readonly #options: ReceiverOptions;
  readonly #senders = new Map<string, Sequencer>();
  #watch: ReadableStreamDefaultReader<unknown> | null = null;
  #watching: Promise<void> | null = null;
  #poll: ReturnType<typeof setInterval> | undefined;
  /** The commit count of this inbox that the last doorbell saw (see `BUS_KEYS.count`). */
  #seenCount = -1n;
  #draining: Promise<void> | null = null;
  #again = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Whether the last listing delivered anything (the channel had missed it). */
  #kvDelivered = true;
  #cleanup: ReturnType<typeof setTimeout> | undefined;
  /** A delete of consumed entries that no outgoing commit took (see `deleteDelayMs`). */
  #deleteLater: ReturnType<typeof setTimeout> | undefined;
  #deleting: Promise<void> | null = null;
  #stopped = false;

  constructor(options: ReceiverOptions) {
    this.#options = options;
  }

  /** Starts the watch of this isolate's head and the poll. */
  start(): void {
    const { kv, isolate } = this.#options;
    const reader = kv.watch<[unknown, unknown]>([
      BUS_KEYS.head(isolate),
      BUS_KEYS.count(isolate),
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

  /** Takes the events for this isolate in a broadcast (anything else in `data` is ignored). */
  offer(data: unknown): void {
    if (this.#stopped) return;
    const batch = data as Broadcast;
    const here = this.#options.isolate;
    if (typeof batch?.s !== "string" || batch.s === here || !Array.isArray(batch.b)) return;
    for (const [target, first, lines] of batch.b) {
      if (target !== here) continue;
      const sender = this.#sender(batch.s);
      for (let i = 0; i < lines.length; i++) sender.offer(first + i, lines[i]);
    }
  }

  /** Forgets what a dead isolate had sent ahead on the channel; it will not fill the hole. */
  forget(isolate: string): void {
    this.#senders.get(isolate)?.forget();
  }

  /** Stops watching, polling and deleting; resolves when all of it has stopped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearTimeout(this.#retry);
    clearTimeout(this.#cleanup);
    clearTimeout(this.#deleteLater);
    await this.#watch?.cancel().catch(() => {});
    await this.#watching;
    await this.#draining;
    await this.#deleting;
  }

  #sender(isolate: string): Sequencer {
    let sender = this.#senders.get(isolate);
    if (!sender) {
      const { stats } = this.#options;
      sender = new Sequencer({
        buffered: BUS_LIMITS.bufferedPerSender,
        holeMs: BUS_LIMITS.holeMs,
        deliver: (line, via) => {
          if (via === "kv") stats.fromKv++;
          else stats.fromBroadcast++;
          this.#hand(line, isolate);
        },
        onSkip: (from, to) => {
          console.error(
            `bus: events ${from}–${to} from ${isolate} are gone from KV; skipping them`,
          );
          stats.skipped += to - from + 1;
        },
      });
      this.#senders.set(isolate, sender);
    }
    return sender;
  }

  #hand(line: string, from: string): void {
    try {
      this.#options.deliver(line, from);
    } catch (error) {
      console.error("bus: delivery failed", error);
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
      this.#options.consumed.add(BUS_KEYS.entry(this.#options.isolate, head.sender, seq, 0, 1));
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
    const { kv, isolate, stats, consumed: entries, broadcast } = this.#options;
    const before = stats.fromKv;
    stats.listings++;
    const { again, consumed } = await drainInbox(
      kv,
      isolate,
      (from) => this.#sender(from),
      // Known at once, so the commit of the replies these deliveries cause
      // carries their deletes.
      (key) => entries.add(key),
    );
    // Only entries the channel had already delivered, and nothing held back:
    // the next doorbells can wait for one cleanup listing.
    this.#kvDelivered = !broadcast || consumed.length === 0 || stats.fromKv > before || again;
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
    if (this.#options.consumed.waiting >= BUS_LIMITS.removalsPerCommit) {
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
    const { kv, stats, consumed } = this.#options;
    this.#deleting = (async () => {
      while (true) {
        const batch = consumed.take(BUS_LIMITS.commitMutations);
        if (batch.length === 0) return;
        stats.deleteCommits++;
        try {
          await deleteEntries(kv, batch.map(([, key]) => key));
        } catch (error) {
          // The entries stay; the next drain consumes them again.
          if (!this.#stopped) console.error("bus: cannot delete consumed entries", error);
          return;
        } finally {
          consumed.done(batch.map(([id]) => id));
        }
      }
    })().finally(() => (this.#deleting = null));
  }
}
