import assert from "node:assert/strict";
import { CID_PATTERN, CLOSE, LIMITS, type ResumeClaim } from "../../lib/protocol/mod.ts";
import { Admission } from "../../lib/server/admission.ts";
import { signToken } from "../../lib/server/auth.ts";
import type { Arrival, BindableSocket } from "../../lib/server/sessions.ts";
import { upgrade } from "../../lib/server/upgrade.ts";
import { rawClient, TEST_SECURITY } from "../_helpers/hub.ts";

const SECRET = "s".repeat(32);

/** Sessions that only record whom they were handed, and welcome them so a client can tell. */
function recordingSessions() {
  const opened: Array<{ arrival: Arrival; claim?: ResumeClaim }> = [];
  return {
    opened,
    closing: false,
    open(socket: BindableSocket, arrival: Arrival, claim?: ResumeClaim) {
      opened.push({ arrival, claim });
      socket.send(JSON.stringify({ type: "welcome", cid: arrival.cid, user_id: arrival.user_id }));
      return Promise.resolve(null);
    },
  };
}

/** `upgrade` served on loopback with a real Admission (on a real KV) and recording sessions. */
async function serveUpgrade(security: Partial<typeof TEST_SECURITY> = {}) {
  const kv = await Deno.openKv(":memory:");
  const admission = new Admission({ ...TEST_SECURITY, ...security }, kv);
  const sessions = recordingSessions();
  const parts = { limits: LIMITS, admission, sessions };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => upgrade(req, parts, info),
  );
  return {
    parts,
    sessions,
    url: `ws://127.0.0.1:${server.addr.port}/api/realtime`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      kv.close();
    },
  };
}

/** Opens a socket (sending `first` once open, if given) and resolves to how it closed. */
function closeOf(url: string, first?: unknown): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(url);
  if (first !== undefined) socket.onopen = () => socket.send(JSON.stringify(first));
  return new Promise((resolve) => {
    socket.onclose = (event) => resolve({ code: event.code, reason: event.reason });
  });
}

const wsRequest = (query = "", headers: Record<string, string> = {}) =>
  new Request(`http://127.0.0.1/api/realtime${query}`, {
    headers: { upgrade: "websocket", ...headers },
  });

Deno.test("refused before any upgrade, each with its status and a typed body", async () => {
  await using served = await serveUpgrade({ allowedOrigins: ["https://app.example"] });
  const { parts } = served;
  const plain = await upgrade(new Request("http://127.0.0.1/api/realtime"), parts);
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.get("upgrade"), "websocket");
  assert.equal((await plain.json()).code, "INVALID_REQUEST");
  for (const query of ["?resume=x", "?session=x"]) {
    const inUrl = await upgrade(wsRequest(query), parts);
    assert.equal(inUrl.status, 400, query);
    assert.match((await inUrl.json()).message, /hello frame/);
  }
  const origin = await upgrade(wsRequest("", { origin: "https://evil.example" }), parts);
  assert.equal(origin.status, 403, "admission's refusal is the answer");
  await origin.body?.cancel();
  served.sessions.closing = true;
  const closing = await upgrade(wsRequest(), parts);
  assert.equal(closing.status, 503);
  assert.equal((await closing.json()).code, "INTERNAL_ERROR");
  assert.equal(served.sessions.opened.length, 0);
});

Deno.test("an upgraded socket reaches the sessions as someone: a fresh cid, its name, its version, its ticket", async () => {
  await using served = await serveUpgrade();
  const v2 = await rawClient(served.url, { name: "  Ada\u0000 ", v: "2" });
  const v1 = await rawClient(served.url);
  const [ada, guest] = served.sessions.opened.map((o) => o.arrival);
  assert.match(ada.cid, CID_PATTERN);
  assert.equal(v2.welcome.cid, ada.cid);
  assert.equal(ada.name, "Ada");
  assert.equal(ada.protocol, 2);
  assert.equal(ada.ticket?.address, "127.0.0.1");
  assert.ok(ada.proof, "an anonymous user_id comes with its proof");
  assert.equal(guest.protocol, 1, "no version named: v1");
  assert.equal(guest.name, `Guest ${guest.user_id.slice(0, 4)}`);
  assert.notEqual(guest.cid, ada.cid);
  await v1.close();
  await v2.close();
});

Deno.test("a hello's resume claim and proof are handed on; the user is the proof's", async () => {
  await using served = await serveUpgrade();
  const first = await rawClient(served.url);
  const { proof, user_id } = served.sessions.opened[0].arrival;
  await first.close();
  const resume = { cid: first.welcome.cid, session: "secret", received: 3 };
  const again = await rawClient(served.url, {}, { hello: { proof, resume } });
  const { arrival, claim } = served.sessions.opened[1];
  assert.equal(arrival.user_id, user_id);
  assert.deepEqual(claim, resume);
  assert.notEqual(arrival.cid, resume.cid, "a cid is only ever continued by the sessions");
  await again.close();
});

Deno.test("after the upgrade: an unknown version, a missing hello, a bad token each close the socket with the reason", async () => {
  await using served = await serveUpgrade({ authSecret: SECRET });
  // With hello=1 the token may follow, so a token-less upgrade passes admission.
  const version = await closeOf(`${served.url}?v=99&hello=1`);
  assert.equal(version.code, CLOSE.unsupportedVersion);
  assert.match(version.reason, /99/);
  const noHello = await closeOf(`${served.url}?hello=1`, { type: "groups", id: 1 });
  assert.equal(noHello.code, CLOSE.noHello);
  assert.match(noHello.reason, /first frame must be the hello/);
  const expired = await signToken(SECRET, { sub: crypto.randomUUID() }, -10);
  const badToken = await closeOf(`${served.url}?hello=1`, { type: "hello", token: expired });
  assert.equal(badToken.code, CLOSE.unauthorized);
  const good = await signToken(SECRET, { sub: crypto.randomUUID(), name: "Bo" });
  const client = await rawClient(served.url, {}, { hello: { token: good } });
  assert.equal(served.sessions.opened.length, 1, "only the good one got in");
  assert.equal(served.sessions.opened[0].arrival.name, "Bo");
  assert.ok(served.sessions.opened[0].arrival.grant, "with its grant");
  await client.close();
});
