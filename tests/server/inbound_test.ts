import assert from "node:assert/strict";
import { CLOSE, LIMITS, type ServerFrame } from "../../lib/protocol/mod.ts";
import type { Connection } from "../../lib/server/connection.ts";
import { Inbound } from "../../lib/server/inbound.ts";
import { Presence } from "../../lib/server/presence.ts";
import { Registry, type Target } from "../../lib/server/registry.ts";
import type { HubCore } from "../../lib/server/requests.ts";
import { wiredConnections } from "../_helpers/connections.ts";

/** A core on a real KV whose routes are only recorded; `connection` is registered. */
async function coreFor(connection: Connection) {
  const kv = await Deno.openKv(":memory:");
  const registry = new Registry();
  registry.add(connection);
  const routed: Array<{ target: Target; frame: ServerFrame }> = [];
  const core: HubCore = {
    presence: new Presence(kv, "iso-test"),
    registry,
    route: (target, frame) => {
      routed.push({ target, frame });
      return Promise.resolve(1);
    },
  };
  await core.presence.connect(connection);
  return { core, routed, [Symbol.dispose]: () => kv.close() };
}

/** Binds the server's end of a wired socket to `inbound`; counts the goodbyes it reports. */
function bind(inbound: Inbound, connection: Connection, socket: WebSocket) {
  const said = { byes: 0 };
  socket.onmessage = (event) => {
    if (inbound.receive(connection, event.data)) said.byes++;
  };
  return said;
}

Deno.test("requests are answered in order, each after the one before: a post sees the join it follows", async () => {
  await using wired = await wiredConnections();
  const { connection, socket, client } = wired.pairs[0];
  using setup = await coreFor(connection);
  bind(new Inbound({ limits: LIMITS, core: setup.core }), connection, socket);
  // A slow KV: the post arrives long before the join's commit lands.
  const presence = setup.core.presence;
  const move = presence.move.bind(presence);
  presence.move = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return move(...args);
  };
  // Sent together: the join's KV commit is awaited before the post is run.
  client.send({ type: "join", id: 1, group: "g" });
  client.send({ type: "post", id: 2, message: "after the join" });
  const posted = await client.next((f) => (f.type === "ack" || f.type === "error") && f.id === 2);
  assert.deepEqual(posted, { type: "ack", id: 2, result: { delivered: 1 } });
  const answers = client.frames.filter((f) => f.type === "ack" || f.type === "error");
  assert.deepEqual(answers.map((f) => (f as { id: number }).id), [1, 2]);
  assert.deepEqual(setup.routed.map(({ target }) => target), [{ group: "g" }, { group: "g" }]);
});

Deno.test("a bad frame gets a typed error with its id, a hello after the first frame one without", async () => {
  await using wired = await wiredConnections();
  const { connection, socket, client } = wired.pairs[0];
  using setup = await coreFor(connection);
  bind(new Inbound({ limits: LIMITS, core: setup.core }), connection, socket);
  const bad = await client.request({ type: "join", group: "x".repeat(65) });
  assert.equal(bad.type, "error");
  assert.equal((bad as { code: string }).code, "INVALID_PARAMETER");
  client.send({ type: "hello" });
  const hello = await client.next<Extract<ServerFrame, { type: "error" }>>(
    (f) => f.type === "error" && f.id === undefined,
  );
  assert.equal(hello.code, "INVALID_REQUEST");
  assert.match(hello.message, /only the first frame/);
  assert.equal(setup.routed.length, 0, "nothing bad reached a handler");
});

Deno.test("over the rate limit a frame is refused (RATE_LIMITED, with its id); too many in a row close the socket", async () => {
  await using wired = await wiredConnections(1, { rate: 0.001, burst: 2 });
  const { connection, socket, client } = wired.pairs[0];
  using setup = await coreFor(connection);
  const limits = { ...LIMITS, maxRejectedInARow: 3 };
  bind(new Inbound({ limits, core: setup.core }), connection, socket);
  // The v1 pong text is free: it takes no token.
  for (let i = 0; i < 5; i++) client.send('{"type":"pong"}');
  assert.equal((await client.request({ type: "groups" })).type, "ack");
  assert.equal((await client.request({ type: "groups" })).type, "ack");
  const refused = await client.request({ type: "groups" });
  assert.equal((refused as { code: string }).code, "RATE_LIMITED");
  client.send({ type: "groups", id: 7 });
  client.send({ type: "groups", id: 8 });
  client.send({ type: "groups", id: 9 }); // the fourth refusal in a row
  const closed = await client.closed;
  assert.equal(closed.code, CLOSE.policy);
  assert.equal(connection.closed, true);
});

Deno.test("a frame over the size limit closes the socket (1009); a bye closes it and is reported once", async () => {
  await using wired = await wiredConnections(2);
  const [big, leaving] = wired.pairs;
  using bigSetup = await coreFor(big.connection);
  using leavingSetup = await coreFor(leaving.connection);
  const limits = { ...LIMITS, maxFrameBytes: 1_000 };
  bind(new Inbound({ limits, core: bigSetup.core }), big.connection, big.socket);
  const said = bind(
    new Inbound({ limits, core: leavingSetup.core }),
    leaving.connection,
    leaving.socket,
  );
  big.client.send({ type: "post", id: 1, message: "x".repeat(2_000) });
  assert.equal((await big.client.closed).code, CLOSE.tooBig);
  leaving.client.send({ type: "bye" });
  assert.equal((await leaving.client.closed).code, CLOSE.normal);
  assert.equal(said.byes, 1);
  assert.equal(leaving.connection.closed, true);
});

Deno.test("a pong's counter shrinks the resume log to what the client has not confirmed", async () => {
  await using wired = await wiredConnections();
  const { connection, socket, client } = wired.pairs[0];
  using setup = await coreFor(connection);
  bind(new Inbound({ limits: LIMITS, core: setup.core }), connection, socket);
  for (let i = 0; i < 3; i++) connection.send({ type: "ping" });
  await client.next((f) => f.type === "ping", 5_000, 2);
  assert.equal(connection.log.since(0)?.length, 3);
  client.send({ type: "pong", received: 2 });
  await client.request({ type: "groups" }); // answered after the pong was taken
  assert.equal(connection.log.since(2)?.length, 2, "the ack counted too");
  assert.equal(connection.log.since(0), null, "the confirmed frames are gone");
});

Deno.test("a signal without id (v3) gets no ack; its failure is answered naming the signal", async () => {
  await using wired = await wiredConnections();
  const { connection, socket, client } = wired.pairs[0];
  using setup = await coreFor(connection);
  const here = `cid:${"A".repeat(24)}`;
  const gone = `cid:${"B".repeat(24)}`;
  setup.core.route = (target) => Promise.resolve("cid" in target && target.cid === here ? 1 : 0);
  bind(new Inbound({ limits: LIMITS, core: setup.core }), connection, socket);
  const signal = { kind: "candidate", call: "c1", candidate: null };
  client.send({ type: "signal", to: here, signal });
  client.send({ type: "signal", to: gone, signal });
  const failed = await client.next<Extract<ServerFrame, { type: "error" }>>(
    (f) => f.type === "error",
  );
  assert.equal(failed.code, "NOT_FOUND");
  assert.deepEqual(failed.signal, { to: gone, call: "c1", kind: "candidate" });
  assert.equal(failed.id, undefined);
  const groups = await client.request({ type: "groups" }); // after both signals were handled
  const acks = client.frames.filter((f) => f.type === "ack");
  assert.deepEqual(acks, [groups], "the delivered signal got no ack");
});
