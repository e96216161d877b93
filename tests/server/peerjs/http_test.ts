import assert from "node:assert/strict";
import { answerId, answerPeers, peerjsOff } from "../../../lib/server/peerjs/mod.ts";
import { openPeer, startPeerjs } from "./_peerjs.ts";

Deno.test("answerId: a fresh UUID as text; 401 when ids are tokens' subjects", async () => {
  await using open = await startPeerjs();
  const res = await answerId(open.peerjs);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(await res.text(), /^[0-9a-f-]{36}$/);
  await using tokens = await startPeerjs({ security: { authSecret: "s".repeat(32) } });
  const refused = await answerId(tokens.peerjs);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).code, "UNAUTHORIZED");
});

Deno.test("answerPeers: the connected ids with discovery on and the right key, else 401", async () => {
  await using server = await startPeerjs({ settings: { discovery: true } });
  const alice = await openPeer(server.url, "alice");
  assert.deepEqual(await (await answerPeers(server.peerjs, "peerjs")).json(), ["alice"]);
  const wrongKey = await answerPeers(server.peerjs, "other");
  assert.equal(wrongKey.status, 401);
  await wrongKey.body?.cancel();
  await alice.close();
  await using off = await startPeerjs();
  const closed = await answerPeers(off.peerjs, "peerjs");
  assert.equal(closed.status, 401);
  assert.match((await closed.json()).message, /PARLEY_PEERJS_DISCOVERY/);
});

Deno.test("peerjsOff: a typed 404 naming the setting", async () => {
  const res = peerjsOff();
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    code: "NOT_FOUND",
    message: "Cannot serve PeerJS as this server runs with PARLEY_PEERJS=off",
  });
});
