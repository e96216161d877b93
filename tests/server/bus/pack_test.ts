import assert from "node:assert/strict";
import { BUS_KEYS, BUS_LIMITS, packCommit, type Run } from "../../../lib/server/bus/mod.ts";

const decoder = new TextDecoder();
const text = (value: Uint8Array | string) =>
  typeof value === "string" ? value : decoder.decode(value);

/** The events a packed commit carries per target, read back from its writes. */
function unpack(writes: ReturnType<typeof packCommit>["writes"]) {
  const events = new Map<string, Map<number, string>>();
  const parts = new Map<string, string[]>();
  const heads = new Map<string, string>();
  for (const { key, value } of writes) {
    if (key[1] === "head") {
      heads.set(key[2] as string, value as string);
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

Deno.test("pack: small events share entries; each target's head names its last seq", () => {
  const outbox = new Map<string, Run>([
    ["iso-b", { first: 1, lines: ["a", "b", "c"] }],
    ["iso-c", { first: 7, lines: ["x"] }],
  ]);
  const { writes, taken } = packCommit(outbox, "iso-a");
  assert.deepEqual([...taken], [["iso-b", 3], ["iso-c", 1]]);
  assert.equal(writes.length, 4, "one entry and one head per target");
  const { events, heads } = unpack(writes);
  assert.deepEqual([...events.get("iso-b")!], [[1, "a"], [2, "b"], [3, "c"]]);
  assert.deepEqual([...events.get("iso-c")!], [[7, "x"]]);
  assert.deepEqual(heads, new Map([["iso-b", "iso-a:3"], ["iso-c", "iso-a:7"]]));
  assert.deepEqual(writes[0].key, BUS_KEYS.entry("iso-b", "iso-a", 1, 0, 1));
});

Deno.test("pack: a commit stays within the mutation and byte limits; the rest waits", () => {
  const limits = { ...BUS_LIMITS, entryBytes: 100, commitBytes: 5_000, commitMutations: 10 };
  const lines = Array.from({ length: 500 }, (_, i) => `event-${i}`.padEnd(40, "."));
  const outbox = new Map<string, Run>([["iso-b", { first: 1, lines }]]);
  const { writes, taken } = packCommit(outbox, "iso-a", limits);
  assert.ok(writes.length <= limits.commitMutations);
  const bytes = writes.reduce(
    (n, w) => n + (typeof w.value === "string" ? w.value.length : w.value.byteLength) + 256,
    0,
  );
  assert.ok(bytes <= limits.commitBytes, `${bytes} bytes`);
  for (const { value } of writes) {
    if (typeof value !== "string") assert.ok(value.byteLength <= limits.entryBytes);
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
  const limits = { ...BUS_LIMITS, entryBytes: 100, commitBytes: 100_000, commitMutations: 6 };
  const large = "L".repeat(450); // 5 parts
  const outbox = new Map<string, Run>([["iso-b", { first: 1, lines: ["small", large, "after"] }]]);
  const first = packCommit(outbox, "iso-a", limits);
  // The head, "small", and five parts do not fit in six mutations: only "small" goes.
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
});

Deno.test("pack: nothing to send makes no writes", () => {
  assert.deepEqual(packCommit(new Map(), "iso-a"), { writes: [], taken: new Map() });
});
