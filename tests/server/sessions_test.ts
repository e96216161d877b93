import assert from "node:assert/strict";
import { CLOSE, LIMITS, type ServerFrame } from "../../lib/protocol/mod.ts";
import { Admission } from "../../lib/server/admission.ts";
import { longestSilenceMs } from "../../lib/server/heartbeat.ts";
import { randomId } from "../../lib/server/ids.ts";
import { Inbound } from "../../lib/server/inbound.ts";
import { Presence } from "../../lib/server/presence.ts";
import { Registry } from "../../lib/server/registry.ts";
import { Router } from "../../lib/server/routing.ts";
import { Sessions } from "../../lib/server/sessions.ts";
import { rawClient, TEST_SECURITY } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

/**
 * Sessions over real parts on a real KV, alone on their isolate (a cluster
 * that reaches no other), taking in every socket of a loopback server.
 */
async function serveSessions() {
  const kv = await Deno.openKv(":memory:");
  const limits = { ...LIMITS, resumeGraceMs: 200 };
  const registry = new Registry();
  const presence = new Presence(kv, "iso-sessions");
  const admission = new Admission(TEST_SECURITY, kv);
  const cluster = {
    ready: Promise.resolve(),
    release: () => {},
    route: (_target: unknown, _text: string, local: number) => Promise.resolve(local),
    knows: () => false,
  };
  const router = new Router(registry, cluster);
  // The hub's wiring, with a cluster of one isolate.
  const parts = { limits, registry, presence, cluster, router, admission };
  const core = { ...parts, route: router.route.bind(router) };
  const sessions = new Sessions({ ...parts, inbound: new Inbound({ limits, core }) });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    const v = new URL(req.url).searchParams.get("v");
    socket.onopen = () => {
      const user_id = crypto.randomUUID();
      sessions.open(socket, {
        cid: `cid:${randomId(18)}`,
        user_id,
        name: "N",
        protocol: Number(v ?? 1),
      });
    };
    return response;
  });
  return {
    sessions,
    presence,
    registry,
    url: `ws://127.0.0.1:${server.addr.port}/`,
    async [Symbol.asyncDispose]() {
      await sessions.close(); // idempotent: some tests closed them already
      await server.shutdown();
      kv.close();
    },
  };
}

Deno.test("an accepted socket is recorded in presence, then welcomed with the isolate, the heartbeat and the grace", async () => {
  await using served = await serveSessions();
  const v1 = await rawClient(served.url);
  const v2 = await rawClient(served.url, { v: "2" });
  for (const client of [v1, v2]) {
    const record = (await served.presence.entry(client.welcome.cid)).value;
    assert.equal(record?.user_id, client.welcome.user_id, "recorded before the welcome");
    assert.equal(client.welcome.isolate, "iso-sessions");
    assert.equal(client.welcome.heartbeat, longestSilenceMs(LIMITS));
    assert.equal(client.welcome.grace, 200);
    assert.equal(client.welcome.resumed, false);
  }
  assert.equal(v1.welcome.v, 1);
  assert.equal(v2.welcome.v, 2);
  // Bound: its frames reach the inbound pipeline.
  assert.equal((await v2.request({ type: "join", group: "g" })).type, "ack");
  await v1.close();
  await v2.close();
});

Deno.test("a goodbye ends the connection at once: the group is told and presence cleared", async () => {
  await using served = await serveSessions();
  const stays = await rawClient(served.url);
  const leaves = await rawClient(served.url);
  await stays.request({ type: "join", group: "g" });
  await leaves.request({ type: "join", group: "g" });
  leaves.send({ type: "bye" });
  const gone = await stays.next<Notice>((f) =>
    f.type === "notice" && f.code === "USER_DISCONNECTED"
  );
  assert.equal(gone.sender_cid, leaves.welcome.cid);
  assert.equal((await served.presence.entry(leaves.welcome.cid)).value, null);
  assert.equal((await leaves.closed).code, CLOSE.normal);
  await stays.close();
});

Deno.test("a suspended connection stays present for its grace, then is dropped", async () => {
  await using served = await serveSessions();
  const client = await rawClient(served.url);
  const { cid } = client.welcome;
  const connection = served.registry.get(cid)!;
  served.sessions.suspend(connection);
  client.socket.close();
  await client.closed;
  assert.equal(connection.state, "suspended");
  assert.ok((await served.presence.entry(cid)).value, "still present while it may resume");
  await waitFor(() => served.registry.get(cid) === undefined, { message: "the grace to end" });
  await waitFor(async () => (await served.presence.entry(cid)).value === null);
});

Deno.test("close says going away to everyone and clears presence; idempotent", async () => {
  await using served = await serveSessions();
  const clients = await Promise.all([rawClient(served.url), rawClient(served.url)]);
  await Promise.all([served.sessions.close(), served.sessions.close()]);
  assert.equal(served.sessions.closing, true);
  for (const client of clients) {
    assert.equal((await client.closed).code, CLOSE.goingAway);
    assert.equal((await served.presence.entry(client.welcome.cid)).value, null);
  }
  assert.equal(served.registry.counts.sockets, 0);
});
