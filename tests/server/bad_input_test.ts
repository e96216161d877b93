import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";

type ErrorFrame = Extract<ServerFrame, { type: "error" }>;

Deno.test("every bad frame gets a typed error and no one else notices anything", async () => {
  await using server = await startHub();
  const bystander = await rawClient(server.url);
  const peer = await rawClient(server.url);
  const attacker = await rawClient(server.url);
  await bystander.request({ type: "join", group: "g" });
  await peer.request({ type: "join", group: "g" });
  await bystander.next((f) => f.type === "notice" && f.sender_cid === peer.welcome.cid);
  const seenBefore = bystander.frames.length;

  const cases: Array<[unknown, string, RegExp]> = [
    ["{oops", "INVALID_REQUEST", /JSON/],
    ['"just a string"', "INVALID_REQUEST", /JSON object/],
    [{ type: "teleport", id: 1 }, "INVALID_REQUEST", /'type' must be one of/],
    [{ type: "join", id: 2, group: 42 }, "INVALID_PARAMETER", /'group'/],
    [{ type: "join", id: 3, group: "bad\tname" }, "INVALID_PARAMETER", /'group'/],
    [{ type: "post", id: 4, message: "x" }, "INVALID_REQUEST", /joined no group/],
    [
      { type: "post", id: 5, message: "x", recipient: "g" },
      "INVALID_REQUEST",
      /not joined group "g"/,
    ],
    [
      { type: "post", id: 6, message: "x", sender: bystander.welcome.user_id },
      "INVALID_PARAMETER",
      /'sender' is not a field/,
    ],
    [
      { type: "post", id: 7, message: "x", recipient: crypto.randomUUID() },
      "NOT_FOUND",
      /not connected/,
    ],
    [{ type: "post", id: 8, message: "x".repeat(40_000) }, "PAYLOAD_TOO_LARGE", /32768 bytes/],
    [
      { type: "signal", id: 9, to: "cid:" + "Q".repeat(24), signal: { kind: "accept", call: "c" } },
      "NOT_FOUND",
      /not connected/,
    ],
    [
      {
        type: "signal",
        id: 10,
        to: bystander.welcome.cid,
        signal: { kind: "accept", call: "c", sender_cid: "x" },
      },
      "INVALID_PARAMETER",
      /'signal.sender_cid' is not a field/,
    ],
    [{ type: "users", id: 11, group: "g", limit: 0 }, "INVALID_PARAMETER", /'limit'/],
    [{ type: "groups", id: 12, searchFor: "color" }, "INVALID_PARAMETER", /'searchFor'/],
  ];
  for (const [frame, code, message] of cases) {
    const mark = attacker.frames.length;
    attacker.send(frame);
    const error = await attacker.next<ErrorFrame>((f) => f.type === "error", 2_000, mark);
    assert.equal(error.code, code, JSON.stringify(frame));
    assert.match(error.message, message);
    const id = typeof frame === "object" ? (frame as { id: number }).id : undefined;
    assert.equal(error.id, id, "the error carries the request's id");
  }
  // Binary frames are refused, typed, without closing.
  const mark = attacker.frames.length;
  attacker.socket.send(new Uint8Array([1, 2, 3]));
  const binary = await attacker.next<ErrorFrame>((f) => f.type === "error", 2_000, mark);
  assert.equal(binary.code, "INVALID_REQUEST");
  assert.match(binary.message, /binary/);

  // The attacker still works, and the group saw nothing of all that.
  assert.equal((await attacker.request({ type: "join", group: "g" })).type, "ack");
  await bystander.next((f) => f.type === "notice" && f.sender_cid === attacker.welcome.cid);
  assert.deepEqual(
    bystander.frames.slice(seenBefore).map((f) => f.type),
    ["notice"],
    "the bystander only saw the attacker's real join",
  );
  assert.equal(peer.socket.readyState, WebSocket.OPEN);
  await Promise.all([bystander, peer, attacker].map((c) => c.close()));
});

Deno.test("an oversize frame closes that socket with 1009 and only that one", async () => {
  await using server = await startHub();
  const bystander = await rawClient(server.url);
  await bystander.request({ type: "join", group: "g" });
  const attacker = await rawClient(server.url);
  await attacker.request({ type: "join", group: "g" });
  attacker.send("x".repeat(70 * 1024));
  const closed = await attacker.closed;
  assert.equal(closed.code, 1009);
  assert.match(closed.reason, /65536 bytes/);
  await bystander.next((f) => f.type === "notice" && f.code === "USER_DISCONNECTED");
  assert.equal((await bystander.request({ type: "post", message: "still here" })).type, "ack");
  await bystander.close();
});

Deno.test("a flood is rate-limited with RATE_LIMITED, then closed for policy", async () => {
  const limits = { rateLimit: 10, rateBurst: 20, maxRejectedInARow: 50 };
  await using server = await startHub({ limits });
  const victim = await rawClient(server.url);
  await victim.request({ type: "join", group: "g" });
  const flooder = await rawClient(server.url);
  await flooder.request({ type: "join", group: "g" });
  // A client that ignores RATE_LIMITED but reads each answer before sending again.
  for (let i = 0; flooder.socket.readyState === WebSocket.OPEN; i++) {
    const mark = flooder.frames.length;
    flooder.send({ type: "post", id: i, message: i });
    await Promise.race([
      flooder.next((f) => "id" in f && f.id === i, 2_000, mark),
      flooder.closed,
    ]);
  }
  const closed = await flooder.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /Rate limit exceeded/);
  const limited = flooder.frames.filter((f) => f.type === "error" && f.code === "RATE_LIMITED");
  assert.equal(limited.length, limits.maxRejectedInARow, "each refused frame was answered");
  await victim.next((f) => f.type === "notice" && f.code === "USER_DISCONNECTED");
  const delivered = victim.frames.filter((f) => f.type === "message").length;
  assert.ok(delivered <= limits.rateBurst + 1, `at most the burst got through (${delivered})`);
  assert.equal((await victim.request({ type: "post", message: "fine" })).type, "ack");
  await victim.close();
});

Deno.test("a blind flooder that ignores the close is cut off; others carry on", async () => {
  await using server = await startHub({ limits: { rateLimit: 10, rateBurst: 20 } });
  const victim = await rawClient(server.url);
  await victim.request({ type: "join", group: "g" });
  const flooder = await rawClient(server.url);
  await flooder.request({ type: "join", group: "g" });
  for (let i = 0; i < 2_000 && flooder.socket.readyState === WebSocket.OPEN; i++) {
    flooder.send({ type: "post", id: i, message: "x".repeat(100) });
  }
  await flooder.closed;
  await victim.next((f) => f.type === "notice" && f.code === "USER_DISCONNECTED");
  assert.equal(server.hub.counts.sockets, 1);
  assert.equal((await victim.request({ type: "post", message: "fine" })).type, "ack");
  await victim.close();
});

Deno.test("a client speaking another protocol version is told so, naming both", async () => {
  await using server = await startHub();
  for (
    const [v, reason] of [
      ["99", /^Protocol v99 is not spoken here: this server speaks v3, so the SDK is too new/],
      ["0", /^Protocol v0 is not spoken here: this server speaks v3, so the SDK is too old/],
    ]
  ) {
    const socket = new WebSocket(`${server.url}?v=${v}`);
    const closed = await new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    assert.equal(closed.code, 4002);
    assert.match(closed.reason, reason as RegExp);
  }
});

Deno.test("plain HTTP to the endpoint gets 426 with a typed error", async () => {
  await using server = await startHub();
  const response = await server.hub.handle(new Request("http://x/api/realtime"));
  assert.equal(response.status, 426);
  assert.deepEqual((await response.json()).code, "INVALID_REQUEST");
});

Deno.test("an oversize binary frame closes that socket with 1009 too", async () => {
  await using server = await startHub();
  const attacker = await rawClient(server.url);
  attacker.socket.send(new Uint8Array(200 * 1024));
  assert.equal((await attacker.closed).code, 1009);
});

Deno.test("a name of only control or format characters is refused; others are cleaned", async () => {
  await using server = await startHub();
  const client = await rawClient(server.url);
  const refused = await client.request({ type: "rename", name: "\u202e\u200b" });
  assert.equal((refused as { code: string }).code, "INVALID_PARAMETER");
  const renamed = await client.request({ type: "rename", name: "Ada\u202e\u200b" });
  assert.deepEqual((renamed as { result: unknown }).result, { name: "Ada" });
  await client.close();
});
