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
 * `publishCommitted` says when; `outbox.ts` (the sending half) says what
 * happens while KV fails, `receiver.ts` (the receiving half) how an inbox
 * is read. This class checks what is published, owns the channel and the
 * close, and wires the halves together.
 *
 * @module
 */

import { ConsumedEntries } from "./consumed.ts";
import { BUS_LIMITS, removeInbox } from "./keys.ts";
import { Outbox } from "./outbox.ts";
import { Receiver } from "./receiver.ts";
import { type Broadcast, type BusStats, BusUnavailableError, emptyStats } from "./types.ts";

export { BusUnavailableError } from "./types.ts";
export type { BusStats } from "./types.ts";

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
  /** What both halves did. */
  readonly stats: BusStats = emptyStats();
  readonly #channelName: string | null;
  #channel: BroadcastChannel | null = null;
  readonly #outbox: Outbox;
  readonly #receiver: Receiver;
  #started = false;
  #stopped = false;
  /** close() was called: nothing more is taken as safe. */
  #closeCalled = false;
  #closing: Promise<void> | null = null;

  constructor(options: BusOptions) {
    this.kv = options.kv;
    this.isolate = options.isolate;
    const broadcast = (options.broadcast ?? true) && typeof BroadcastChannel === "function";
    this.#channelName = broadcast ? options.channel ?? "parley-bus" : null;
    const consumed = new ConsumedEntries();
    const shared = { kv: options.kv, isolate: options.isolate, stats: this.stats, consumed };
    this.#outbox = new Outbox({
      ...shared,
      post: broadcast ? (batch) => this.#post(batch) : null,
      broadcastDrop: options.broadcastDrop ?? 0,
      inboxExpireMs: options.inboxExpireMs ?? 600_000,
      unavailableAfterMs: options.unavailableAfterMs ?? 5_000,
    });
    this.#receiver = new Receiver({ ...shared, deliver: options.deliver, broadcast });
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Starts receiving: the watch of this isolate's head, the poll and the channel. */
  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    if (this.#channelName !== null) {
      this.#channel = new BroadcastChannel(this.#channelName);
      this.#channel.onmessage = (event) => this.#receiver.offer(event.data);
    }
    this.#receiver.start();
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
    this.#outbox.publish(targets, line);
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
    return this.#outbox.publishCommitted(targets, line);
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

  /** Resolves once every event published so far is committed to KV. */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  /** Forgets what a dead isolate had sent ahead on the channel; it will not fill the hole. */
  forget(isolate: string): void {
    this.#receiver.forget(isolate);
  }

  /**
   * Commits what is published, stops watching and listening, and removes
   * this isolate's inbox. Idempotent.
   */
  close(): Promise<void> {
    this.#closeCalled = true;
    this.#outbox.closing();
    this.#closing ??= (async () => {
      await this.flush();
      this.#stopped = true;
      this.#channel?.close();
      this.#channel = null;
      await this.#receiver.stop();
      if (this.#started) await removeInbox(this.kv, this.isolate);
    })();
    return this.#closing;
  }

  #post(batch: Broadcast): void {
    if (!this.#channel) return; // not started, or closed
    try {
      this.#channel.postMessage(batch);
    } catch (error) {
      console.error("bus: cannot broadcast; KV still carries the events", error);
    }
  }
}
