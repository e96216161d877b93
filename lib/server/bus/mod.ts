/**
 * The bus: events from this isolate to the others of its deployment, over
 * KV inboxes (the source of truth) and a BroadcastChannel (the fast path).
 *
 * - `keys.ts`: the KV schema (keys, limits, inbox removal), its one owner;
 * - `pack.ts`: which entries one commit carries (pure);
 * - `sequencer.ts`: each sender's order, once per seq, holes skipped (pure);
 * - `inbox.ts`: one drain of an inbox, large events put back together;
 * - `consumed.ts`: the consumed entries whose deletes the next commits carry;
 * - `outbox.ts`: the sending half (seqs, the channel's batch, commits, retries);
 * - `receiver.ts`: the receiving half (the head's watch, listings, deletes);
 * - `types.ts`: the counters, the channel's batch and the unavailable error;
 * - `bus.ts`: the class callers use, which wires the halves together.
 *
 * @example
 * ```ts ignore
 * import { Bus } from "./mod.ts";
 * const bus = new Bus({ kv, isolate: "iso-a", deliver: (line, from) => {} });
 * bus.start();
 * bus.publish(["iso-b"], "hello");
 * ```
 *
 * @module
 */
export { Bus, type BusOptions, type BusStats, BusUnavailableError } from "./bus.ts";
export { BUS_KEYS, BUS_LIMITS, isolatesWithInbox, removeInbox } from "./keys.ts";
export { type Head, packCommit, type Packed, type PackLimits, type Run } from "./pack.ts";
export { Sequencer, type SequencerOptions, type Via } from "./sequencer.ts";
