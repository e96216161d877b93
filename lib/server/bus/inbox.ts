/**
 * One drain of an isolate's inbox: list it, and hand each sender's entries
 * to that sender's {@linkcode Sequencer} (putting large events back
 * together from their parts); then the consumed entries are deleted, off
 * the path of the next drain.
 *
 * @module
 */
import { BUS_KEYS, BUS_LIMITS } from "./keys.ts";
import type { Sequencer } from "./sequencer.ts";

const decoder = new TextDecoder();
const NEWLINE = 10;

/** How many newline-separated events a chunk holds. */
function countLines(bytes: Uint8Array): number {
  let count = 1;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

function join(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const bytes of parts) {
    joined.set(bytes, at);
    at += bytes.byteLength;
  }
  return joined;
}

type EntryKey = [string, string, string, string, number, number, number];

/** What one drain did. */
export interface Drained {
  /** Some entries wait (behind a hole, or a large event cut off by the listing): drain again soon. */
  again: boolean;
  /** The entries whose events are all delivered: delete them ({@linkcode deleteEntries}). */
  consumed: Deno.KvKey[];
}

/**
 * Lists `iso`'s inbox once and delivers what is new through each sender's
 * sequencer. `onConsumed` hears of each consumed entry as soon as its events
 * are delivered (before the listing goes on), so a commit the deliveries
 * cause can carry its delete.
 *
 * @example
 * ```ts ignore
 * const { again, consumed } = await drainInbox(kv, "iso-b", (sender) => sequencers.get(sender)!);
 * await deleteEntries(kv, consumed);
 * ```
 */
export async function drainInbox(
  kv: Deno.Kv,
  iso: string,
  sequencerOf: (sender: string) => Sequencer,
  onConsumed?: (key: Deno.KvKey) => void,
): Promise<Drained> {
  const consumed: Deno.KvKey[] = [];
  const consume = (keys: Deno.KvKey[]) => {
    for (const key of keys) {
      consumed.push(key);
      onConsumed?.(key);
    }
  };
  /** Senders whose entries wait behind a hole in this listing. */
  const held = new Set<string>();
  /** Parts of a large event being put together. */
  let parts: { from: string; seq: number; keys: Deno.KvKey[]; bytes: Uint8Array[] } | null = null;
  const entries = kv.list<Uint8Array>({ prefix: BUS_KEYS.inbox(iso) }, { batchSize: 500 });
  for await (const entry of entries) {
    const [, , , from, seq, part, count] = entry.key as EntryKey;
    if (held.has(from)) continue;
    const sequencer = sequencerOf(from);
    if (count === 1) {
      parts = null;
      // Delivered already (the channel's copy came first)? Count, don't decode.
      if (
        sequencer.isDone(seq, countLines(entry.value)) ||
        sequencer.accept(seq, decoder.decode(entry.value).split("\n"))
      ) {
        consume([entry.key]);
      } else {
        held.add(from);
      }
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
    if (sequencer.isDone(seq, 1) || sequencer.accept(seq, [decoder.decode(join(whole.bytes))])) {
      consume(whole.keys);
    } else {
      held.add(from);
    }
  }
  return { again: held.size > 0 || parts !== null, consumed };
}

/**
 * Deletes inbox entries, as few commits as KV's limits allow.
 *
 * @example
 * ```ts ignore
 * await deleteEntries(kv, consumed);
 * ```
 */
export async function deleteEntries(kv: Deno.Kv, keys: readonly Deno.KvKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BUS_LIMITS.commitMutations) {
    const op = kv.atomic();
    for (const key of keys.slice(i, i + BUS_LIMITS.commitMutations)) op.delete(key);
    await op.commit();
  }
}
