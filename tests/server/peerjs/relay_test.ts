import assert from "node:assert/strict";
import type { PeerClaim } from "../../../lib/server/peerjs/claims.ts";
import { PeerjsPeer } from "../../../lib/server/peerjs/peer.ts";
import { Relay } from "../../../lib/server/peerjs/relay.ts";
import type { Target } from "../../../lib/server/registry.ts";

/** A socket that records what it is sent. */
function fakeSocket(open = true) {
  const sent: string[] = [];
  return { sent, readyState: open ? 1 : 3, send: (t: string) => sent.push(t), close() {} };
}

function peer(id: string, socket = fakeSocket()) {
  const claim: PeerClaim = { isolate: "here", cid: `cid:${id}`, token: "t", since: 0 };
  return {
    peer: new PeerjsPeer(id, { socket, claim, versionstamp: "v", rate: 1e9, burst: 1e9 }),
    socket,
  };
}

/** A relay whose remote claims come from `remote`, each lookup taking `delays` ms in turn. */
function setup(remote: Record<string, PeerClaim>, delays: number[] = []) {
  const published: Array<{ isolate: string; target: Target; text: string }> = [];
  const dead: string[] = [];
  const relay = new Relay({
    host: {
      isolate: "here",
      sendTo: (isolate, target, text) => published.push({ isolate, target, text }),
      liveOthers: () => Promise.resolve(["there"]),
    },
    claims: {
      lookup: async (id) => {
        await new Promise((r) => setTimeout(r, delays.shift() ?? 0));
        return remote[id] ?? null;
      },
    },
    expireTimeoutMs: 50,
    onDead: (p) => dead.push(p.id),
  });
  return { relay, published, dead };
}

const there: PeerClaim = { isolate: "there", cid: "cid:bob", token: "t", since: 0 };
const texts = (list: Array<{ text: string }>) => list.map((p) => JSON.parse(p.text).payload);

Deno.test("relay: to a local peer at once, src stamped", () => {
  const { relay } = setup({});
  const bob = peer("bob");
  relay.peers.set("bob", bob.peer);
  relay.send("alice", "OFFER", "bob", { sdp: "x" });
  assert.deepEqual(bob.socket.sent.map((t) => JSON.parse(t)), [
    { type: "OFFER", src: "alice", dst: "bob", payload: { sdp: "x" } },
  ]);
});

Deno.test("relay: to another isolate in the sender's order, however slow each lookup", async () => {
  const { relay, published } = setup({ bob: there }, [40, 0, 20, 0]);
  for (let n = 0; n < 4; n++) relay.send("alice", "CANDIDATE", "bob", n);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(texts(published), [0, 1, 2, 3]);
  assert.ok(published.every((p) => p.isolate === "there" && "cid" in p.target));
});

Deno.test("relay: a dead local socket: the peer is dropped and the sender hears LEAVE", () => {
  const { relay, dead } = setup({});
  const alice = peer("alice");
  relay.peers.set("alice", alice.peer);
  relay.peers.set("bob", peer("bob", fakeSocket(false)).peer);
  relay.send("alice", "OFFER", "bob", {});
  assert.deepEqual(dead, ["bob"]);
  assert.deepEqual(JSON.parse(alice.socket.sent[0]), { type: "LEAVE", src: "bob", dst: "alice" });
});

Deno.test("relay: waiting frames go to a peer that arrives here, or that a tick finds elsewhere", async () => {
  const remote: Record<string, PeerClaim> = {};
  const { relay, published } = setup(remote);
  relay.send("alice", "OFFER", "bob", "first");
  relay.send("alice", "OFFER", "carol", "for carol");
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(relay.waiting.has("bob"));
  relay.send("alice", "CANDIDATE", "bob", "second"); // queues behind "first"
  const bob = peer("bob");
  relay.peers.set("bob", bob.peer);
  relay.arrived(bob.peer);
  assert.deepEqual(bob.socket.sent.map((t) => JSON.parse(t).payload), ["first", "second"]);
  remote.carol = { ...there, cid: "cid:carol" };
  await relay.tick();
  assert.deepEqual(texts(published), ["for carol"]);
  assert.equal(relay.waiting.size, 0);
});

Deno.test("relay: LEAVE and EXPIRE for nobody are dropped; other frames EXPIRE after the wait", async () => {
  const { relay } = setup({});
  const alice = peer("alice");
  relay.peers.set("alice", alice.peer);
  relay.send("alice", "LEAVE", "nobody");
  relay.send("alice", "EXPIRE", "nobody");
  relay.send("alice", "OFFER", "nobody", {});
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(relay.waiting.size, 1);
  await new Promise((r) => setTimeout(r, 60));
  await relay.tick();
  assert.deepEqual(alice.socket.sent.map((t) => JSON.parse(t)), [
    { type: "EXPIRE", src: "nobody", dst: "alice" },
  ]);
});

Deno.test("relay: over the waiting bounds the sender hears EXPIRE at once", async () => {
  const { relay } = setup({});
  const alice = peer("alice");
  relay.peers.set("alice", alice.peer);
  for (let n = 0; n < 101; n++) relay.send("alice", "CANDIDATE", "nobody", n);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(relay.waiting.size, 100);
  assert.deepEqual(alice.socket.sent.map((t) => JSON.parse(t).type), ["EXPIRE"]);
});
