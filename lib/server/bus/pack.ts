/**
 * The commit packer: which inbox entries one atomic commit carries, within
 * KV's limits. Pure — it builds a list of writes and touches no KV — so it
 * is tested on its own.
 *
 * Events for one target go into entries of newline-joined events, each at
 * most `entryBytes`; an event larger than that goes in parts, all in one
 * commit. Each target written to gets its head bumped in the same commit.
 *
 * @module
 */
import { BUS_KEYS, BUS_LIMITS } from "./keys.ts";

/** Events for one target isolate: seqs `first`, `first + 1`, … */
export interface Run {
  first: number;
  lines: string[];
}

/** The limits a commit is packed to (see `BUS_LIMITS`). */
export interface PackLimits {
  entryBytes: number;
  commitBytes: number;
  commitMutations: number;
  keyBytes: number;
}

/** One commit's writes, and how many events of each target it takes. */
export interface Packed {
  writes: Array<{ key: Deno.KvKey; value: Uint8Array | string }>;
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

/**
 * Packs as much of `outbox` (events per target) as one commit takes.
 *
 * @example
 * ```ts
 * import { packCommit } from "./pack.ts";
 * const outbox = new Map([["iso-b", { first: 1, lines: ["a", "b"] }]]);
 * const { writes, taken } = packCommit(outbox, "iso-a");
 * writes.length; // 2: one entry ("a\nb") and iso-b's head
 * taken.get("iso-b"); // 2
 * ```
 */
export function packCommit(
  outbox: ReadonlyMap<string, Run>,
  sender: string,
  limits: PackLimits = BUS_LIMITS,
): Packed {
  const writes: Packed["writes"] = [];
  const taken = new Map<string, number>();
  let mutations = limits.commitMutations;
  let bytes = limits.commitBytes;
  const cost = (value: number) => value + limits.keyBytes;
  for (const [target, run] of outbox) {
    // Room for the head and one entry at least.
    if (mutations < 2 || bytes < cost(0) + cost(limits.entryBytes)) break;
    mutations--;
    bytes -= cost(0);
    let count = 0;
    let chunk: Uint8Array[] = [];
    let chunkBytes = 0;
    let chunkSeq = run.first;
    const closeChunk = () => {
      if (chunk.length === 0) return;
      writes.push({
        key: BUS_KEYS.entry(target, sender, chunkSeq, 0, 1),
        value: concat(chunk, chunkBytes),
      });
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
        for (let part = 0; part < parts; part++) {
          const slice = event.subarray(part * limits.entryBytes, (part + 1) * limits.entryBytes);
          writes.push({ key: BUS_KEYS.entry(target, sender, seq, part, parts), value: slice });
          mutations--;
          bytes -= cost(slice.byteLength);
        }
        continue;
      }
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
    // Nothing fitted: the head's mutation is not used; stop here.
    if (count === 0) break;
    writes.push({ key: BUS_KEYS.head(target), value: `${sender}:${run.first + count - 1}` });
    taken.set(target, count);
  }
  return { writes, taken };
}
