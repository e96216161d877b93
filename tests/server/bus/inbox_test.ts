import assert from "node:assert/strict";
import {
  BUS_KEYS,
  isolatesWithInbox,
  removeInbox,
  Sequencer,
} from "../../../lib/server/bus/mod.ts";
import { deleteEntries, drainInbox } from "../../../lib/server/bus/inbox.ts";

/** One drain and the delete of what it consumed, as the bus does. */
async function drain(
  kv: Deno.Kv,
  iso: string,
  sequencerOf: (sender: string) => Sequencer,
): Promise<boolean> {
  const { again, consumed } = await drainInbox(kv, iso, sequencerOf);
  await deleteEntries(kv, consumed);
  return again;
}

const encoder = new TextEncoder();

function sequencers(got: string[]) {
  const map = new Map<string, Sequencer>();
  return (sender: string) => {
    let s = map.get(sender);
    if (!s) {
      s = new Sequencer({
        deliver: (line) => got.push(`${sender} ${line}`),
        buffered: 10,
        holeMs: 60_000,
      });
      map.set(sender, s);
    }
    return s;
  };
}

Deno.test("inbox: entries and parts of a large event are delivered in order and deleted", async () => {
  using kv = await Deno.openKv(":memory:");
  const large = "L".repeat(10);
  await kv.set(BUS_KEYS.entry("iso-b", "iso-a", 1, 0, 1), encoder.encode("one\ntwo"));
  await kv.set(BUS_KEYS.entry("iso-b", "iso-a", 3, 0, 2), encoder.encode(large.slice(0, 4)));
  await kv.set(BUS_KEYS.entry("iso-b", "iso-a", 3, 1, 2), encoder.encode(large.slice(4)));
  await kv.set(BUS_KEYS.entry("iso-b", "iso-c", 1, 0, 1), encoder.encode("other"));
  const got: string[] = [];
  const sequencerOf = sequencers(got);
  assert.equal(await drain(kv, "iso-b", sequencerOf), false);
  assert.deepEqual(got, ["iso-a one", "iso-a two", `iso-a ${large}`, "iso-c other"]);
  assert.deepEqual(await Array.fromAsync(kv.list({ prefix: BUS_KEYS.inbox("iso-b") })), []);
  // Drained again: nothing twice.
  await kv.set(BUS_KEYS.entry("iso-b", "iso-a", 1, 0, 1), encoder.encode("one\ntwo"));
  assert.equal(await drain(kv, "iso-b", sequencerOf), false);
  assert.equal(got.length, 4);
});

Deno.test("inbox: a hole, or a large event cut off, holds its sender back and asks for another drain", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(BUS_KEYS.entry("iso-b", "iso-a", 2, 0, 1), encoder.encode("two"));
  await kv.set(BUS_KEYS.entry("iso-b", "iso-c", 1, 0, 3), encoder.encode("par"));
  const got: string[] = [];
  const sequencerOf = sequencers(got);
  assert.equal(await drain(kv, "iso-b", sequencerOf), true);
  assert.deepEqual(got, []);
  assert.equal((await Array.fromAsync(kv.list({ prefix: BUS_KEYS.inbox("iso-b") }))).length, 2);
  await kv.set(BUS_KEYS.entry("iso-b", "iso-a", 1, 0, 1), encoder.encode("one"));
  assert.equal(await drain(kv, "iso-b", sequencerOf), true, "iso-c's event is still cut off");
  assert.deepEqual(got, ["iso-a one", "iso-a two"]);
});

Deno.test("keys: the isolates with an inbox, and the removal of one", async () => {
  using kv = await Deno.openKv(":memory:");
  for (const iso of ["iso-a", "iso-b"]) {
    await kv.set(BUS_KEYS.entry(iso, "iso-x", 1, 0, 1), encoder.encode("e"));
    await kv.set(BUS_KEYS.head(iso), "iso-x:1");
  }
  assert.deepEqual([...await isolatesWithInbox(kv)].sort(), ["iso-a", "iso-b"]);
  await removeInbox(kv, "iso-a");
  assert.deepEqual([...await isolatesWithInbox(kv)], ["iso-b"]);
  assert.deepEqual(await Array.fromAsync(kv.list({ prefix: BUS_KEYS.inbox("iso-a") })), []);
  assert.equal((await Array.fromAsync(kv.list({ prefix: BUS_KEYS.inbox("iso-b") }))).length, 1);
});

Deno.test("keys: a commit counter left after its head expired still names an inbox to remove", async () => {
  using kv = await Deno.openKv(":memory:");
  // What a late commit to a removed inbox leaves once its head expired: the
  // counter (a KV sum cannot expire) and maybe entries.
  await kv.atomic().sum(BUS_KEYS.count("iso-gone"), 1n).commit();
  await kv.set(BUS_KEYS.entry("iso-gone", "iso-x", 1, 0, 1), encoder.encode("e"));
  assert.deepEqual([...await isolatesWithInbox(kv)], ["iso-gone"]);
  await removeInbox(kv, "iso-gone");
  assert.deepEqual([...await isolatesWithInbox(kv)], []);
  assert.equal((await kv.get(BUS_KEYS.count("iso-gone"))).value, null);
});
