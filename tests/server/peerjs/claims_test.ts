import assert from "node:assert/strict";
import {
  CLAIM_EXPIRE_MS,
  PeerClaims,
  PEERJS_KEYS,
  tokenDigest,
} from "../../../lib/server/peerjs/claims.ts";

/** Claims of isolates `one` and `two` on one real KV; `live` says which others are alive. */
async function setup() {
  const kv = await Deno.openKv(":memory:");
  const live = new Set(["one", "two"]);
  const claimsOf = (isolate: string) =>
    new PeerClaims({
      kv,
      key: "peerjs",
      isolate,
      liveOthers: () => Promise.resolve([...live].filter((iso) => iso !== isolate)),
    });
  return { kv, live, one: claimsOf("one"), two: claimsOf("two") };
}

Deno.test("claims: one id, one holder; the same token moves it; a dead holder's claim is stale", async () => {
  const { kv, live, one, two } = await setup();
  try {
    assert.equal((await one.claim("alice", "A", "cid:1")).kind, "claimed");
    assert.deepEqual(await two.claim("alice", "B", "cid:2"), { kind: "taken" });
    const moved = await two.claim("alice", "A", "cid:2");
    assert.equal(moved.kind, "moved");
    assert.equal(moved.kind === "moved" && moved.from.cid, "cid:1");
    assert.equal((await one.lookup("alice"))?.isolate, "two");
    // Isolate two dies: its claim no longer holds the id.
    live.delete("two");
    assert.equal((await one.claim("alice", "C", "cid:3")).kind, "claimed");
    // A claim of this very isolate with no peer behind it (the caller knows) is stale too.
    assert.equal((await one.claim("alice", "D", "cid:4")).kind, "claimed");
  } finally {
    kv.close();
  }
});

Deno.test("claims: release only by the holder; refresh only of the same commit; list of live ones", async () => {
  const { kv, live, one, two } = await setup();
  try {
    const first = await one.claim("alice", "A", "cid:1");
    assert.ok(first.kind === "claimed");
    await one.claim("bob", "B", "cid:b");
    await two.claim("carol", "C", "cid:c");
    await one.release("alice", "cid:someone-else");
    assert.equal((await one.lookup("alice"))?.cid, "cid:1", "not released by another cid");
    const claim = (await one.lookup("alice"))!;
    const again = await one.refresh("alice", claim, first.versionstamp);
    assert.ok(again !== null);
    assert.equal(await one.refresh("alice", claim, first.versionstamp), null, "stale stamp");
    const holder = { id: "alice", claim, versionstamp: again };
    await one.refreshAll([holder]);
    assert.notEqual(holder.versionstamp, again, "refreshAll keeps each holder's stamp current");
    assert.deepEqual((await one.list(10)).sort(), ["alice", "bob", "carol"]);
    live.delete("two");
    assert.deepEqual((await one.list(10)).sort(), ["alice", "bob"]);
    assert.deepEqual(await one.list(1), ["alice"]);
    await one.release("alice", "cid:1");
    assert.equal(await one.lookup("alice"), null);
    assert.ok(CLAIM_EXPIRE_MS > 0);
    const stored = await kv.get(PEERJS_KEYS.claim("peerjs", "bob"));
    assert.equal((stored.value as { token: string }).token, "B", "the digest the caller gave");
  } finally {
    kv.close();
  }
});

Deno.test("tokenDigest: SHA-256 in hex, so tokens are never stored", async () => {
  assert.equal(
    await tokenDigest("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
