import assert from "node:assert/strict";
import { type PeerClaim, PEERJS_KEYS } from "../../lib/server/peerjs/mod.ts";
import { CLUSTER_ENV, kvEntries } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";
import { openPeer, type PeerSocket, peerSocket } from "../server/peerjs/_peerjs.ts";

/** Peers wanted on each isolate. */
const PER_ISOLATE = 4;

/** Where each id's claim says its peer is. */
async function claims(kvPath: string): Promise<Map<string, string>> {
  const entries = await kvEntries(kvPath, PEERJS_KEYS.claims("peerjs"));
  return new Map(entries.map((e) => [String(e.key.at(-1)), (e.value as PeerClaim).isolate]));
}

Deno.test("PeerJS over two isolates of deno serve --parallel, BroadcastChannel off", async (t) => {
  await using app = await startApp({
    cluster: true,
    env: { ...CLUSTER_ENV, PARLEY_BROADCAST: "off" },
  });
  const url = `${app.wsUrl.replace("/api/realtime", "")}/peerjs/peerjs`;
  // The kernel spreads sockets over the isolates: open more until both hold a few.
  const peers: PeerSocket[] = [];
  let where = new Map<string, string>();
  while (peers.length < 20 * PER_ISOLATE) {
    const batch = Array.from({ length: 8 }, (_, i) => peers.length + i);
    peers.push(...await Promise.all(batch.map((i) => openPeer(url, `p${i}`, `t${i}`))));
    where = await waitFor(async () => {
      const map = await claims(app.kvPath);
      return map.size === peers.length && map;
    }, { message: "every claim in KV" });
    const counts = [...Map.groupBy(where.values(), (iso) => iso).values()].map((l) => l.length);
    if (counts.length === 2 && Math.min(...counts) >= PER_ISOLATE) break;
  }
  assert.equal(new Set(where.values()).size, 2, "the peers sit on both isolates");

  await t.step("every peer reaches a peer on the other isolate, src stamped", async () => {
    const ids = [...where.keys()];
    const pairs = ids.map((id) => [id, ids.find((other) => where.get(other) !== where.get(id))!]);
    for (const [from, to] of pairs) {
      peers[Number(from.slice(1))].send({ type: "OFFER", dst: to, payload: { from } });
    }
    await Promise.all(
      pairs.map(([from, to]) =>
        peers[Number(to.slice(1))].next((f) =>
          f.type === "OFFER" && f.src === from && (f.payload as { from: string }).from === from
        )
      ),
    );
  });

  await t.step("ids are taken on either isolate; the same token may move them", async () => {
    const attempts = await Promise.all(
      [...where.keys()].map((id) => peerSocket(url, { id, token: "another" })),
    );
    await Promise.all(attempts.map((a) => a.closed));
    assert.ok(attempts.every((a) => a.frames[0]?.type === "ID-TAKEN"), "every one refused");
    // The same tokens again: each socket replaces the old one here, or moves the claim there.
    let current = peers;
    let moved = 0;
    for (let round = 0; round < 10 && moved === 0; round++) {
      const before = await claims(app.kvPath);
      const again = await Promise.all(
        [...before.keys()].map((id) => peerSocket(url, { id, token: `t${id.slice(1)}` })),
      );
      await Promise.all(current.map((p) => p.closed));
      const after = await waitFor(async () => {
        const map = await claims(app.kvPath);
        return map.size === peers.length && map;
      }, { message: "every claim still in KV" });
      moved = [...after].filter(([id, iso]) => iso !== before.get(id)).length;
      current = again;
    }
    assert.ok(moved > 0, "some reconnects landed on the other isolate and moved their claim");
    await Promise.all(current.map((s) => s.close()));
  });
});
