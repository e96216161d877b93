/**
 * The commit packer: which inbox entries one atomic commit carries, within
 * KV's limits. Pure — it builds a list of writes and touches no KV — so it
 * is tested on its own.
 *
 * Events for one target go into entries of newline-joined events, each at
 * most `entryBytes`; an event larger than that goes in parts, all in one
 * commit. Each target written to gets its head bumped in the same commit;
 * when the target's events in the commit are small (`inlineBytes`), the
 * head carries them too, so a receiver woken by its watch of the head can
 * deliver without listing its inbox (see {@linkcode Head}).
 *
 * @module
 */
import { BUS_KEYS, BUS_LIMITS } from "./keys.ts";

/** Events for one target isolate: seqs `first`, `first + 1`, … */
export interface Run {
  first: number;
  lines: string[];
}

/**
 * The value of a target's head: which sender's commit bumped it last, the
 * seqs of the entries it wrote (`entries`: the first seq of each, one part
 * each), and, if they were small, its events (`lines`, from seq `first`).
 * It is a copy of what the entries hold, committed with them.
 */
export interface Head {
  sender: string;
  first: number;
  last: number;
  entries: number[];
  lines?: string[];
}

/** The limits a commit is packed to (see `BUS_LIMITS`). */
export interface PackLimits {
  entryBytes: number;
  /** Most event bytes per target a head carries beside the entries. */
  inlineBytes: number;
  commitBytes: number;
  commitMutations: number;
  keyBytes: number;
}

/**
 * One commit's writes; the counters it adds one to (each target's commit
 * count, see `BUS_KEYS.count`); how many events of each target it takes.
 */
export interface Packed {
  writes: Array<{ key: Deno.KvKey; value: Uint8Array | Head }>;
  counts: Deno.KvKey[];
  taken: Map<string, number>;
}

const encoder = new TextEncoder();
const NEWLINE = 10;

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

/** The most bytes the first `count` of `lines` take V8-serialised in a head (two a character). */
function serialisedCost(lines: readonly string[], count: number): number {
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += 2 * lines[i].length + 8;
  return bytes;
}

/**
 * Packs as much of `outbox` (events per target) as one commit takes.
 *
 * @example
 * ```ts
 * import { packCommit } from "./pack.ts";
 * const outbox = new Map([["iso-b", { first: 1, lines: ["a", "b"] }]]);
 * const { writes, taken } = packCommit(outbox, "iso-a");
 * writes.length; // 2: one entry ("a\nb") and iso-b's head (which carries "a" and "b" too)
 * taken.get("iso-b"); // 2
 * ```
 */
export function packCommit(
  outbox: ReadonlyMap<string, Run>,
  sender: string,
  limits: PackLimits = BUS_LIMITS,
): Packed {
  const writes: Packed["writes"] = [];
  const counts: Deno.KvKey[] = [];
  const taken = new Map<string, number>();
  let mutations = limits.commitMutations;
  let bytes = limits.commitBytes;
  const cost = (value: number) => value + limits.keyBytes;
  for (const [target, run] of outbox) {
    // Room for the head, the count and one entry at least.
    if (mutations < 3 || bytes < 2 * cost(0) + cost(limits.entryBytes)) break;
    mutations -= 2;
    bytes -= 2 * cost(0);
    let count = 0;
    /** The first seq of each single-part entry; null once a large event went in parts. */
    let entries: number[] | null = [];
    let eventBytes = 0;
    let chunk: Uint8Array[] = [];
    let chunkBytes = 0;
    let chunkSeq = run.first;
    const closeChunk = () => {
      if (chunk.length === 0) return;
      writes.push({
        key: BUS_KEYS.entry(target, sender, chunkSeq, 0, 1),
        value: concat(chunk, chunkBytes),
      });
      entries?.push(chunkSeq);
      mutations--;
      bytes -= cost(chunkBytes);
      chunk = [];
      chunkBytes = 0;
    };
    for (; count < run.lines.length; count++) {
      const seq = run.first + count;
      const event = encoder.encode(run.lines[count]);
      if (event.byteLength > limits.entryBytes) {
        // One large event in parts, all in this commit.
        const parts = Math.ceil(event.byteLength / limits.entryBytes);
        const open = chunk.length > 0 ? 1 : 0;
        if (
          mutations < parts + open ||
          bytes < cost(chunkBytes) + parts * cost(0) + event.byteLength
        ) break;
        closeChunk();
        entries = null;
        for (let part = 0; part < parts; part++) {
          const slice = event.subarray(part * limits.entryBytes, (part + 1) * limits.entryBytes);
          writes.push({ key: BUS_KEYS.entry(target, sender, seq, part, parts), value: slice });
          mutations--;
          bytes -= cost(slice.byteLength);
        }
        continue;
      }
      eventBytes += event.byteLength;
      const grown = chunkBytes + (chunk.length > 0 ? 1 : 0) + event.byteLength;
      if (chunk.length > 0 && grown > limits.entryBytes) closeChunk();
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
    // Nothing fitted: the head's and the count's mutations are not used; stop here.
    if (count === 0) break;
    const head: Head = {
      sender,
      first: run.first,
      last: run.first + count - 1,
      entries: entries ?? [],
    };
    // KV stores the head V8-serialised: a line with any character above
    // U+00FF takes two bytes a character, so count the worst case.
    const inlineCost = eventBytes <= limits.inlineBytes
      ? serialisedCost(run.lines, count)
      : Infinity;
    if (entries !== null && bytes >= inlineCost) {
      head.lines = run.lines.slice(0, count);
      bytes -= inlineCost;
    }
    writes.push({ key: BUS_KEYS.head(target), value: head });
    counts.push(BUS_KEYS.count(target));
    taken.set(target, count);
  }
  return { writes, counts, taken };
}
