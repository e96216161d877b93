import assert from "node:assert/strict";
import {
  BUS_KEYS,
  BUS_LIMITS,
  type Head,
  packCommit,
  type Run,
} from "../../../lib/server/bus/mod.ts";

const decoder = new TextDecoder();
const text = (value: Uint8Array | Head) =>
  value instanceof Uint8Array ? decoder.decode(value) : JSON.stringify(value);

/** The events a packed commit carries per target, read back from its writes. */
function unpack(writes: ReturnType<typeof packCommit>["writes"]) {
  const events = new Map<string, Map<number, string>>();
  const parts = new Map<string, string[]>();
  const heads = new Map<string, Head>();
  for (const { key, value } of writes) {
    if (key[1] === "head") {
      heads.set(key[2] as string, value as Head);
      continue;
    }
    const [, , target, , seq, part, count] = key as unknown as [
      string,
      string,
      string,
      string,
      number,
      number,
      number,
    ];
    const byTarget = events.get(target) ?? new Map<number, string>();
    events.set(target, byTarget);
    if (count === 1) {
      text(value).split("\n").forEach((line, i) => byTarget.set(seq + i, line));
    } else {
      const id = `${target}/${seq}`;
      const list = parts.get(id) ?? [];
      list[part] = text(value);
      parts.set(id, list);
      if (list.filter((p) => p !== undefined).length === count) byTarget.set(seq, list.join(""));
    }
  }
  return { events, heads };
}

Deno.test("pack: small events share entries; each target's head names its entries and carries them", () => {
  const outbox = new Map<string, Run>([
    ["iso-b", { first: 1, lines: ["a", "b", "c"] }],
    ["iso-c", { first: 7, lines: ["x"] }],
  ]);
  const { writes, counts, taken } = packCommit(outbox, "iso-a");
  assert.deepEqual([...taken], [["iso-b", 3], ["iso-c", 1]]);
  assert.deepEqual(counts, [BUS_KEYS.count("iso-b"), BUS_KEYS.count("iso-c")]);
  assert.equal(writes.length, 4, "one entry and one head per target");
  const { events, heads } = unpack(writes);
  assert.deepEqual([...events.get("iso-b")!], [[1, "a"], [2, "b"], [3, "c"]]);
  assert.deepEqual([...events.get("iso-c")!], [[7, "x"]]);
  assert.deepEqual(
    heads,
    new Map([
      ["iso-b", { sender: "iso-a", first: 1, last: 3, entries: [1], lines: ["a", "b", "c"] }],
      ["iso-c", { sender: "iso-a", first: 7, last: 7, entries: [7], lines: ["x"] }],
    ]),
  );
  assert.deepEqual(writes[0].key, BUS_KEYS.entry("iso-b", "iso-a", 1, 0, 1));
});

Deno.test("pack: a commit stays within the mutation and byte limits; the rest waits", () => {
  const limits = { ...BUS_LIMITS, entryBytes: 100, commitBytes: 5_000, commitMutations: 10 };
  const lines = Array.from({ length: 500 }, (_, i) => `event-${i}`.padEnd(40, "."));
  const outbox = new Map<string, Run>([["iso-b", { first: 1, lines }]]);
  const { writes, counts, taken } = packCommit(outbox, "iso-a", limits);
  assert.ok(writes.length + counts.length <= limits.commitMutations);
  const bytes = writes.reduce(
    (n, w) => n + (w.value instanceof Uint8Array ? w.value.byteLength : text(w.value).length) + 256,
    counts.length * 256,
  );
  assert.ok(bytes <= limits.commitBytes, `${bytes} bytes`);
  for (const { value } of writes) {
    if (value instanceof Uint8Array) assert.ok(value.byteLength <= limits.entryBytes);
  }
  const count = taken.get("iso-b")!;
  assert.ok(count > 0 && count < 500, `took ${count}`);
  const { events } = unpack(writes);
  assert.deepEqual(
    [...events.get("iso-b")!.values()],
    lines.slice(0, count),
    "the first events, whole, in order",
  );
});

Deno.test("pack: a large event goes in parts, all in one commit, or waits for the next", () => {
  const limits = { ...BUS_LIMITS, entryBytes: 100, commitBytes: 100_000, commitMutations: 7 };
  const large = "L".repeat(450); // 5 parts
  const outbox = new Map<string, Run>([["iso-b", { first: 1, lines: ["small", large, "after"] }]]);
  const first = packCommit(outbox, "iso-a", limits);
  // The head, the count, "small", and five parts do not fit in seven mutations: only "small" goes.
  assert.equal(first.taken.get("iso-b"), 1);
  const rest = new Map<string, Run>([["iso-b", { first: 2, lines: [large, "after"] }]]);
  const second = packCommit(rest, "iso-a", limits);
  assert.equal(second.taken.get("iso-b"), 1);
  const { events } = unpack(second.writes);
  assert.equal(events.get("iso-b")!.get(2), large);
  assert.deepEqual(
    second.writes.filter((w) => w.key[1] === "inbox").map((w) => w.key.slice(4)),
    [0, 1, 2, 3, 4].map((part) => [2, part, 5]),
  );
  // A large event is not copied into the head: the receiver lists its parts.
  assert.equal(unpack(second.writes).heads.get("iso-b")!.lines, undefined);
});

Deno.test("pack: the head carries the events only up to inlineBytes", () => {
  const limits = { ...BUS_LIMITS, inlineBytes: 10 };
  const small = packCommit(
    new Map([["iso-b", { first: 1, lines: ["12345", "6789"] }]]),
    "iso-a",
    limits,
  );
  assert.deepEqual(unpack(small.writes).heads.get("iso-b")!.lines, ["12345", "6789"]);
  const big = packCommit(
    new Map([["iso-b", { first: 1, lines: ["123456", "78901"] }]]),
    "iso-a",
    limits,
  );
  const head = unpack(big.writes).heads.get("iso-b")!;
  assert.equal(head.lines, undefined);
  assert.deepEqual([head.first, head.last], [1, 2]);
});

Deno.test("pack: nothing to send makes no writes", () => {
  assert.deepEqual(packCommit(new Map(), "iso-a"), { writes: [], counts: [], taken: new Map() });
});

Deno.test("pack: lines with characters above U+00FF still fit KV's commit limit, heads and all", async () => {
  // KV serialises a head's lines with V8, two bytes a character once any is
  // above U+00FF: counted as UTF-8, this commit was refused every time.
  const line = "x".repeat(1_600) + "—";
  const outbox = new Map<string, Run>(
    Array.from({ length: 30 }, (_, t) => [`iso-${t}`, { first: 1, lines: Array(10).fill(line) }]),
  );
  const kv = await Deno.openKv(":memory:");
  try {
    let left = 30 * 10;
    for (let commits = 1; left > 0; commits++) {
      assert.ok(commits <= 10, "the outbox drains in a few commits");
      const { writes, counts, taken } = packCommit(outbox, "iso-a");
      const op = kv.atomic();
      for (const { key, value } of writes) op.set(key, value);
      for (const key of counts) op.sum(key, 1n);
      assert.equal((await op.commit()).ok, true);
      for (const [target, count] of taken) {
        const run = outbox.get(target)!;
        run.first += count;
        run.lines = run.lines.slice(count);
        if (run.lines.length === 0) outbox.delete(target);
        left -= count;
      }
    }
  } finally {
    kv.close();
  }
});
