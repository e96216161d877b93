import assert from "node:assert/strict";
import { type ServerFrame, unpackNotices } from "../../lib/protocol/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";
import { noticesKey } from "../../lib/server/notices.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

/** The notices a client got, unpacked, in order. */
const noticesOf = (frames: ServerFrame[]): Notice[] =>
  frames.flatMap((f) => f.type === "notice" ? [f] : f.type === "notices" ? unpackNotices(f) : []);

Deno.test("a v2 client gets a tick's notices in one frame; a v1 client one by one; the same notices", async () => {
  await using server = await startHub({ limits: { rateLimit: 10_000, rateBurst: 10_000 } });
  const v1 = await rawClient(server.url);
  const v2 = await rawClient(server.url, { v: "2" });
  assert.equal(v1.welcome.v, 1);
  assert.equal(v2.welcome.v, 2);
  await v1.request({ type: "join", group: "g" });
  await v2.request({ type: "join", group: "g" });
  const crowd = await Promise.all(Array.from({ length: 30 }, () => rawClient(server.url)));
  await Promise.all(crowd.map((c) => c.request({ type: "join", group: "g" })));
  // v1 saw its own join, v2's and the crowd's; v2 its own and the crowd's.
  await waitFor(() => noticesOf(v1.frames).length === 32 && noticesOf(v2.frames).length === 31);
  assert.deepEqual(noticesOf(v2.frames).slice(-30), noticesOf(v1.frames).slice(-30));
  const v2Frames = v2.frames.filter((f) => f.type === "notice" || f.type === "notices").length;
  assert.ok(v2Frames < 30, `${v2Frames} frames carried 30 joins`);
  for (const client of [v1, v2, ...crowd]) await client.close();
});

Deno.test("a notice queued in a tick goes out before a later frame of the same tick", async () => {
  await using server = await startHub();
  const watcher = await rawClient(server.url, { v: "2" });
  await watcher.request({ type: "join", group: "g" });
  const other = await rawClient(server.url);
  // The join's notice and the post's message both reach the watcher; in order.
  other.send({ type: "join", id: 1, group: "g" });
  other.send({ type: "post", id: 2, message: "after the join" });
  await watcher.next((f) => f.type === "message");
  const kinds = watcher.frames.map((f) => f.type).filter((t) => t !== "ack" && t !== "welcome");
  assert.deepEqual(kinds.slice(-2), ["notice", "message"]);
  await watcher.close();
  await other.close();
});

Deno.test("the same notices in the same order make the same key; others another", () => {
  const [a, b, c] = [{}, {}, {}];
  assert.equal(noticesKey([a, b]), noticesKey([a, b]));
  assert.notEqual(noticesKey([a, b]), noticesKey([b, a]));
  assert.notEqual(noticesKey([a, b]), noticesKey([a, b, c]));
});
