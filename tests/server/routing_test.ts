import assert from "node:assert/strict";
import { noticeFrame, type ServerFrame, unpackNotices } from "../../lib/protocol/mod.ts";
import { Registry, type Target } from "../../lib/server/registry.ts";
import { Router } from "../../lib/server/routing.ts";
import { wiredConnections } from "../_helpers/connections.ts";

/** A cluster that only records what it is asked to carry, and says it reached `elsewhere` more. */
function recordingCluster(elsewhere = 0) {
  const routes: Array<{ target: Target; text: string; local: number; safe: boolean }> = [];
  return {
    routes,
    route(target: Target, text: string, local: number, safe = false) {
      routes.push({ target, text, local, safe });
      return Promise.resolve(local + elsewhere);
    },
  };
}

Deno.test("a group's members here get a frame at once, the cluster the same text and the local count", async () => {
  await using wired = await wiredConnections(3);
  const [a, b, outsider] = wired.pairs;
  const registry = new Registry();
  for (const { connection } of wired.pairs) registry.add(connection);
  registry.setGroup(a.connection, "g");
  registry.setGroup(b.connection, "g");
  const cluster = recordingCluster(5);
  const router = new Router(registry, cluster);
  const frame: ServerFrame = {
    type: "message",
    message: "hi",
    sender_rid: "g",
    ...a.connection.stamp,
  };
  assert.equal(await router.route({ group: "g" }, frame, true), 7);
  await a.client.next((f) => f.type === "message");
  await b.client.next((f) => f.type === "message");
  assert.deepEqual(cluster.routes, [{
    target: { group: "g" },
    text: JSON.stringify(frame),
    local: 2,
    safe: true,
  }]);
  // A frame for the outsider alone, after: had the group's reached it, it would have come first.
  router.route({ cid: outsider.connection.cid }, { type: "ping" });
  await outsider.client.next((f) => f.type === "ping");
  assert.equal(outsider.client.frames.some((f) => f.type === "message"), false);
});

Deno.test("notices of one tick reach a v2 member as one frame and a v1 member one by one, from here or elsewhere", async () => {
  await using wired = await wiredConnections(2);
  const [v1, v2] = wired.pairs;
  v2.connection.protocol = 2;
  const registry = new Registry();
  for (const { connection } of wired.pairs) {
    registry.add(connection);
    registry.setGroup(connection, "g");
  }
  const router = new Router(registry, recordingCluster());
  const joined = noticeFrame("USER_JOINED", "g", v1.connection.stamp);
  const left = noticeFrame("USER_LEFT", "g", v2.connection.stamp);
  router.route({ group: "g" }, joined);
  // The same kind of notice, as text from another isolate's bus.
  router.deliver({ group: "g" }, JSON.stringify(left));
  const packed = await v2.client.next<Extract<ServerFrame, { type: "notices" }>>(
    (f) => f.type === "notices",
  );
  assert.deepEqual(unpackNotices(packed), [joined, left]);
  await v1.client.next((f) => f.type === "notice" && f.code === "USER_LEFT");
  assert.deepEqual(v1.client.frames.filter((f) => f.type === "notice"), [joined, left]);
});

Deno.test("a frame from elsewhere for a cid reaches a recipient that is no connection, as it came", () => {
  const registry = new Registry();
  const got: string[] = [];
  const remove = registry.addRecipient("cid:peer", { sendText: (text) => got.push(text) });
  const router = new Router(registry, recordingCluster());
  router.deliver({ cid: "cid:peer" }, '{"type":"OFFER"}');
  router.deliver({ cid: "cid:someone-else" }, '{"type":"OFFER"}');
  remove();
  router.deliver({ cid: "cid:peer" }, '{"type":"LEAVE"}');
  assert.deepEqual(got, ['{"type":"OFFER"}']);
});
