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

/** The KV keys of the bus, in one place. */
export const BUS_KEYS = {
  /** Every entry of isolate `iso`'s inbox. */
  inbox: (iso: string) => ["parley", "inbox", iso] as const,
  /**
   * One inbox entry: events `seq`, `seq + 1`, … from `sender` (`parts` 1), or
   * part `part` of the `parts` parts of one large event `seq`.
   */
  entry: (iso: string, sender: string, seq: number, part: number, parts: number) =>
    ["parley", "inbox", iso, sender, seq, part, parts] as const,
  /** The key isolate `iso` watches; bumped with every commit to its inbox. */
  head: (iso: string) => ["parley", "head", iso] as const,
  /** Every head. */
  heads: ["parley", "head"] as const,
};

/** Sizes the bus keeps to, below Deno KV's limits. */
export const BUS_LIMITS = {
  /** Largest inbox value (KV allows 65,536 bytes). */
  entryBytes: 60_000,
  /** Largest commit, keys and values (KV allows 819,200 bytes). */
  commitBytes: 700_000,
  /** Most mutations in a commit (KV allows 1,000). */
  commitMutations: 1_000,
  /** What a key and a mutation's bookkeeping cost at most, counted with its value. */
  keyBytes: 256,
  /** Longest event (in UTF-16 units; up to 3 UTF-8 bytes each, so a few entries at most). */
  eventChars: 128 * 1024,
  /** Events held per sender that came over the channel ahead of a missing one. */
  bufferedPerSender: 10_000,
  /**
   * How long a hole in an inbox may last before the receiver skips it. A hole
   * is normally a list that raced a commit and is gone at the next list; one
   * that stays means the entries expired (a receiver stalled for longer than
   * `expireIn`).
   */
  holeMs: 10_000,
  /** How often the inbox is listed even when the watch says nothing (a safety net). */
  pollMs: 1_000,
} as const;

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

/** Events for one target isolate: seqs `first`, `first + 1`, … */
interface Run {
  first: number;
  lines: string[];
}

/** One broadcast: `[target, first seq, lines]` per target isolate. */
interface Broadcast {
  s: string;
  b: Array<[string, number, string[]]>;
}

/** What this isolate knows of one sender isolate. */
interface Sender {
  /** The last seq delivered. */
  delivered: number;
  /** Broadcast events that arrived ahead of a missing one. */
  ahead: Map<number, string>;
  /** Since when a hole has kept this sender's inbox entries from being delivered. */
  holeSince: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 10;

function append(runs: Map<string, Run>, target: string, seq: number, line: string): void {
  const run = runs.get(target);
  if (run) run.lines.push(line);
  else runs.set(target, { first: seq, lines: [line] });
}

/** How many newline-separated events a chunk holds. */
function countLines(bytes: Uint8Array): number {
  let count = 1;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

function concat(parts: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[at++] = NEWLINE;
    out.set(parts[i], at);
    at += parts[i].byteLength;
  }
  return out;
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
  readonly #senders = new Map<string, Sender>();
  #draining: Promise<void> | null = null;
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
        while (!(await reader.read()).done) this.#drain();
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
    const sender = this.#senders.get(isolate);
    if (sender) sender.ahead.clear();
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
      this.#channel?.close();
      this.#channel = null;
      await this.#watch?.cancel().catch(() => {});
      await this.#watching;
      await this.#draining;
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
    const op = this.kv.atomic();
    const taken = new Map<string, number>();
    let mutations = BUS_LIMITS.commitMutations;
    let bytes = BUS_LIMITS.commitBytes;
    const expireIn = this.#expireIn;
    const cost = (value: number) => value + BUS_LIMITS.keyBytes;
    for (const [target, run] of this.#outbox) {
      // Room for the head and one entry at least.
      if (mutations < 2 || bytes < cost(0) + cost(BUS_LIMITS.entryBytes)) break;
      mutations--;
      bytes -= cost(0);
      let count = 0;
      let chunk: Uint8Array[] = [];
      let chunkBytes = 0;
      let chunkSeq = run.first;
      const closeChunk = () => {
        if (chunk.length === 0) return;
        op.set(
          BUS_KEYS.entry(target, this.isolate, chunkSeq, 0, 1),
          concat(chunk, chunkBytes),
          { expireIn },
        );
        mutations--;
        bytes -= cost(chunkBytes);
        chunk = [];
        chunkBytes = 0;
      };
      for (; count < run.lines.length; count++) {
        const seq = run.first + count;
        const event = encoder.encode(run.lines[count]);
        if (event.byteLength > BUS_LIMITS.entryBytes) {
          // One large event in parts, all in this commit.
          const parts = Math.ceil(event.byteLength / BUS_LIMITS.entryBytes);
          const open = chunk.length > 0 ? 1 : 0;
          if (
            mutations < parts + open ||
            bytes < cost(chunkBytes) + parts * cost(0) + event.byteLength
          ) break;
          closeChunk();
          for (let part = 0; part < parts; part++) {
            const slice = event.subarray(
              part * BUS_LIMITS.entryBytes,
              (part + 1) * BUS_LIMITS.entryBytes,
            );
            op.set(BUS_KEYS.entry(target, this.isolate, seq, part, parts), slice, { expireIn });
            mutations--;
            bytes -= cost(slice.byteLength);
          }
          continue;
        }
        const grown = chunkBytes + (chunk.length > 0 ? 1 : 0) + event.byteLength;
        if (chunk.length > 0 && grown > BUS_LIMITS.entryBytes) {
          closeChunk();
        }
        if (chunk.length === 0) {
          if (mutations < 1 || bytes < cost(event.byteLength)) break;
          chunkSeq = seq;
          chunk.push(event);
          chunkBytes = event.byteLength;
        } else {
          // The open chunk is charged when it closes: check it fits then.
          if (bytes < cost(grown)) break;
          chunk.push(event);
          chunkBytes = grown;
        }
      }
      closeChunk();
      if (count === 0) {
        // Nothing fitted: give the head mutation back and stop here.
        break;
      }
      op.set(BUS_KEYS.head(target), `${this.isolate}:${run.first + count - 1}`, { expireIn });
      taken.set(target, count);
    }
    return { op, taken };
  }

  // --- RECEIVING ---

  #sender(isolate: string): Sender {
    let sender = this.#senders.get(isolate);
    if (!sender) {
      sender = { delivered: 0, ahead: new Map(), holeSince: 0 };
      this.#senders.set(isolate, sender);
    }
    return sender;
  }

  /** Delivers the event after the last one delivered, then any that waited for it. */
  #deliverNext(from: string, sender: Sender, line: string): void {
    sender.delivered++;
    sender.ahead.delete(sender.delivered);
    this.#hand(line, from);
    while (sender.ahead.size > 0) {
      const next = sender.ahead.get(sender.delivered + 1);
      if (next === undefined) break;
      sender.delivered++;
      sender.ahead.delete(sender.delivered);
      this.stats.fromBroadcast++;
      this.#hand(next, from);
    }
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
      for (let i = 0; i < lines.length; i++) {
        const seq = first + i;
        if (seq <= sender.delivered) continue;
        if (seq === sender.delivered + 1) {
          this.stats.fromBroadcast++;
          this.#deliverNext(batch.s, sender, lines[i]);
        } else if (sender.ahead.size < BUS_LIMITS.bufferedPerSender) {
          sender.ahead.set(seq, lines[i]);
        }
      }
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

  async #drainOnce(): Promise<void> {
    const consumed: Deno.KvKey[] = [];
    /** Senders whose entries wait behind a hole in this listing. */
    const held = new Set<string>();
    /** Parts of a large event being put together. */
    let parts: { from: string; seq: number; keys: Deno.KvKey[]; bytes: Uint8Array[] } | null = null;
    const entries = this.kv.list<Uint8Array>({ prefix: BUS_KEYS.inbox(this.isolate) }, {
      batchSize: 500,
    });
    for await (const entry of entries) {
      const [, , , from, seq, part, count] = entry.key as [
        string,
        string,
        string,
        string,
        number,
        number,
        number,
      ];
      if (held.has(from)) continue;
      const sender = this.#sender(from);
      if (count === 1) {
        parts = null;
        // Delivered already (the channel's copy came first)? Count, don't decode.
        if (seq + countLines(entry.value) - 1 <= sender.delivered) {
          consumed.push(entry.key);
          continue;
        }
        const lines = decoder.decode(entry.value).split("\n");
        if (seq > sender.delivered + 1 && !this.#skipHole(from, sender, seq)) {
          held.add(from);
          continue;
        }
        sender.holeSince = 0;
        // Each delivery may also release events that came ahead over the
        // channel, so the next line is found from `delivered` every time.
        for (let i = sender.delivered + 1 - seq; i < lines.length; i = sender.delivered + 1 - seq) {
          this.stats.fromKv++;
          this.#deliverNext(from, sender, lines[i]);
        }
        consumed.push(entry.key);
        continue;
      }
      // A part of a large event.
      if (part === 0) parts = { from, seq, keys: [], bytes: [] };
      if (parts === null || parts.from !== from || parts.seq !== seq) {
        parts = null;
        held.add(from);
        continue;
      }
      parts.keys.push(entry.key);
      parts.bytes.push(entry.value);
      if (part < count - 1) continue;
      const whole = parts;
      parts = null;
      if (seq <= sender.delivered) {
        consumed.push(...whole.keys);
        continue;
      }
      if (seq > sender.delivered + 1 && !this.#skipHole(from, sender, seq)) {
        held.add(from);
        continue;
      }
      sender.holeSince = 0;
      const size = whole.bytes.reduce((n, b) => n + b.byteLength, 0);
      const joined = new Uint8Array(size);
      let at = 0;
      for (const bytes of whole.bytes) {
        joined.set(bytes, at);
        at += bytes.byteLength;
      }
      this.stats.fromKv++;
      this.#deliverNext(from, sender, decoder.decode(joined));
      consumed.push(...whole.keys);
    }
    for (let i = 0; i < consumed.length; i += BUS_LIMITS.commitMutations) {
      const op = this.kv.atomic();
      for (const key of consumed.slice(i, i + BUS_LIMITS.commitMutations)) op.delete(key);
      await op.commit();
    }
    // A hole, or a large event cut off at the end of the listing: look again soon.
    if (held.size > 0 || parts !== null) this.#later(20);
  }

  /**
   * Whether to skip the hole before `seq`: only once it has lasted
   * {@linkcode BUS_LIMITS.holeMs} (a listing that raced a commit sees a
   * hole that the next listing does not).
   */
  #skipHole(from: string, sender: Sender, seq: number): boolean {
    const now = Date.now();
    if (sender.holeSince === 0) sender.holeSince = now;
    if (now - sender.holeSince < BUS_LIMITS.holeMs) return false;
    console.error(
      `bus: events ${sender.delivered + 1}–${seq - 1} from ${from} are gone from KV; skipping them`,
    );
    this.stats.skipped += seq - 1 - sender.delivered;
    sender.delivered = seq - 1;
    sender.holeSince = 0;
    return true;
  }
}

/**
 * Deletes isolate `iso`'s inbox entries and head (on close, or by the
 * isolate that sweeps a dead one).
 */
export async function removeInbox(kv: Deno.Kv, iso: string): Promise<void> {
  let op = kv.atomic();
  let count = 0;
  for await (const entry of kv.list({ prefix: BUS_KEYS.inbox(iso) }, { batchSize: 1000 })) {
    op.delete(entry.key);
    if (++count === BUS_LIMITS.commitMutations - 1) {
      await op.commit();
      op = kv.atomic();
      count = 0;
    }
  }
  op.delete(BUS_KEYS.head(iso));
  await op.commit();
}
