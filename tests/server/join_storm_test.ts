import assert from "node:assert/strict";
import { type RawClient, rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("1,000 clients join one group: each sees every later join exactly once", async () => {
  await using server = await startHub();
  const clients: RawClient[] = [];
  for (let batch = 0; batch < 4; batch++) {
    clients.push(
      ...await Promise.all(Array.from({ length: 250 }, () => rawClient(server.url))),
    );
  }
  // Everyone joins at once; the server decides the order.
  const started = performance.now();
  await Promise.all(clients.map((c) => c.request({ type: "join", group: "storm" }, 60_000)));
  console.log(`1,000 joins acked in ${Math.round(performance.now() - started)} ms`);
  const cids = clients.map((c) => c.welcome.cid);
  const last = clients.at(-1)!;
  // Every socket has received the notice of the last joiner's… wait for all
  // notices to drain: the total every client must see is the joins after its own.
  const joinsSeen = (client: typeof last) =>
    client.frames.flatMap((f) =>
      f.type === "notice" && f.code === "USER_JOINED" ? [f.sender_cid] : []
    );
  // The joiner's own notice comes first in its stream; the server's order is
  // the order of the longest stream.
  const longest = () => clients.map(joinsSeen).reduce((a, b) => (a.length >= b.length ? a : b));
  await waitFor(() => longest().length === clients.length, { timeout: 20_000, interval: 100 })
    .catch(() => {}); // asserted below
  const order = longest();
  assert.equal(order.length, 1000, "someone saw all 1,000 joins");
  assert.deepEqual(new Set(order), new Set(cids));
  for (const client of clients) {
    const expected = order.slice(order.indexOf(client.welcome.cid));
    await waitFor(() => joinsSeen(client).length >= expected.length, { timeout: 10_000 })
      .catch(() => {}); // asserted below
    assert.deepEqual(joinsSeen(client), expected, `${client.welcome.cid} saw each later join once`);
  }
  await Promise.all(clients.map((c) => c.close()));
});
