// Over 300 lines: every access rule, against real hubs, in one place.
/**
 * Access tokens, origins and abuse limits on a real hub over real sockets.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { RealtimeClient, RealtimeError } from "../../lib/sdk/mod.ts";
import { roomAllowed, signToken, verifyToken } from "../../lib/server/auth.ts";
import { clientAddress, PerMinuteLimiter } from "../../lib/server/abuse.ts";
import { securityFromEnv } from "../../lib/server/settings.ts";
import { rawClient, startHub, TEST_SECURITY, upgradeAttempt as attempt } from "../_helpers/hub.ts";

const SECRET = "test-secret-of-32-bytes-or-more-0000";

/** The refusal `hub.handle` answers an upgrade with, before upgrading. */
async function refusal(
  handle: (req: Request) => Promise<Response>,
  query = "",
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { code: string; message: string } }> {
  const res = await handle(
    new Request(`http://127.0.0.1/api/realtime${query}`, {
      headers: { upgrade: "websocket", ...headers },
    }),
  );
  return { status: res.status, body: await res.json() };
}

Deno.test("room patterns: names, prefixes, *", () => {
  assert.ok(roomAllowed(["lobby"], "lobby"));
  assert.ok(!roomAllowed(["lobby"], "lobby2"));
  assert.ok(roomAllowed(["team-*"], "team-a"));
  assert.ok(roomAllowed(["team-*"], "team-"));
  assert.ok(!roomAllowed(["team-*"], "teams"));
  assert.ok(!roomAllowed(["a.b"], "axb"), "a dot is a dot");
  assert.ok(roomAllowed(["*"], "anything"));
  assert.ok(roomAllowed(["*-room"], "x-room"));
  assert.ok(!roomAllowed([], "lobby"));
  // Room names are any group name (spaces included), so a pattern's other characters are literal.
  assert.ok(roomAllowed(["Another Group Name"], "Another Group Name"));
  assert.ok(roomAllowed(["Board (2026) *"], "Board (2026) Q1"));
  assert.ok(!roomAllowed(["Board (2026) *"], "Board 2026 Q1"), "parentheses are literal");
  assert.ok(!roomAllowed(["a+b"], "aab"), "a plus is a plus");
});

Deno.test("tokens may grant rooms whose names have spaces, and refuse control characters", async () => {
  const sub = crypto.randomUUID();
  const token = await signToken(SECRET, { sub, rooms: ["Another Group Name", "Team *"] });
  assert.deepEqual((await verifyToken(SECRET, token)).rooms, ["Another Group Name", "Team *"]);
  await assert.rejects(signToken(SECRET, { sub, rooms: ["line\nbreak"] }), TypeError);
});

Deno.test("tokens: verified with HS256 only; sub must be a UUID", async () => {
  const sub = crypto.randomUUID();
  const grant = await verifyToken(SECRET, await signToken(SECRET, { sub, name: "Ada" }));
  assert.deepEqual({ ...grant, exp: 0 }, { user_id: sub, name: "Ada", rooms: ["*"], exp: 0 });
  const reject = (token: string | null, pattern: RegExp) =>
    assert.rejects(verifyToken(SECRET, token), (e: Error & { code?: string }) => {
      assert.equal(e.code, "UNAUTHORIZED");
      assert.match(e.message, pattern);
      return true;
    });
  await reject(null, /requires an access token/);
  await reject("garbage", /rejected/);
  await reject(await signToken("another-secret", { sub }), /signature/);
  await reject(await signToken(SECRET, { sub }, 60, Date.now() - 120_000), /expired/);
  const key = new TextEncoder().encode(SECRET);
  const notUuid = await new SignJWT({ rooms: ["*"] }).setProtectedHeader({ alg: "HS256" })
    .setSubject("alice").setExpirationTime("1h").sign(key);
  await reject(notUuid, /'sub' must be a user id/);
  const noExp = await new SignJWT({ rooms: ["*"] }).setProtectedHeader({ alg: "HS256" })
    .setSubject(sub).sign(key);
  await reject(noExp, /exp/);
  const noRooms = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
    .setSubject(sub).setExpirationTime("1h").sign(key);
  await reject(noRooms, /'rooms'/);
  // alg "none" (an unsigned token) is never accepted.
  const [, body] = (await signToken(SECRET, { sub })).split(".");
  await reject(`${btoa('{"alg":"none"}').replace(/=+$/, "")}.${body}.`, /rejected/);
});

Deno.test("auth on: no, bad or expired token → 401 before upgrading", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const handle = (req: Request) => server.hub.handle(req);
  const sub = crypto.randomUUID();
  for (
    const [query, pattern] of [
      ["", /requires an access token/],
      [`?token=${await signToken("wrong-secret", { sub })}`, /signature/],
      [`?token=${await signToken(SECRET, { sub }, 10, Date.now() - 60_000)}`, /expired/],
    ] as const
  ) {
    const { status, body } = await refusal(handle, query);
    assert.equal(status, 401);
    assert.equal(body.code, "UNAUTHORIZED");
    assert.match(body.message, pattern);
  }
  // The Deno SDK sees the status and says so with a typed error.
  for (const token of [undefined, "not-a-jwt"]) {
    const client = new RealtimeClient({ url: server.url, token });
    await assert.rejects(client.connectRealtime(), (e: RealtimeError) => {
      assert.ok(e instanceof RealtimeError);
      assert.equal(e.code, "UNAUTHORIZED");
      assert.match(e.message, /401.*token/);
      return true;
    });
    await client.closeRealtime();
  }
  assert.equal(server.hub.counts.sockets, 0);
});

Deno.test("auth on: the token's sub is the user; its rooms are the rooms it may join", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const ada = crypto.randomUUID();
  const bob = crypto.randomUUID();
  const adaToken = await signToken(SECRET, { sub: ada, name: "Ada", rooms: ["team-*", "lobby"] });
  const bobToken = await signToken(SECRET, { sub: bob, rooms: ["*"] });
  // The client claims another user_id and name: the token wins.
  const a = await rawClient(server.url, {
    token: adaToken,
    user_id: bob,
    name: "Mallory",
  });
  assert.equal(a.welcome.user_id, ada);
  assert.equal(a.welcome.name, "Ada");
  const b = await rawClient(server.url, { token: bobToken, name: "Bob" });
  assert.equal(b.welcome.user_id, bob);
  assert.equal(b.welcome.name, "Bob", "no name in the token: the client's");

  const refused = await a.request({ type: "join", group: "secret" });
  assert.equal(refused.type, "error");
  assert.equal((refused as { code: string }).code, "UNAUTHORIZED");
  assert.match((refused as { message: string }).message, /"secret".*team-\*, lobby/);
  const listed = await a.request({ type: "users", group: "secret" }) as { code?: string };
  assert.equal(listed.code, "UNAUTHORIZED", "nor may it list who is in a room it may not join");
  assert.equal((await a.request({ type: "join", group: "team-red" })).type, "ack");
  assert.equal((await a.request({ type: "users", group: "team-red" })).type, "ack");
  assert.equal((await a.request({ type: "join", group: "lobby" })).type, "ack");
  assert.equal((await b.request({ type: "join", group: "lobby" })).type, "ack");

  // Whatever a frame says, the stamped sender is the token's sub.
  const from = b.frames.length;
  a.send({ type: "post", id: 7, message: { text: "hi", sender: bob, user_id: bob } });
  const message = await b.next<Extract<ServerFrame, { type: "message" }>>(
    (f) => f.type === "message",
    5_000,
    from,
  );
  assert.equal(message.sender, ada);
  assert.equal(message.sender_cid, a.welcome.cid);
  await a.close();
  await b.close();
});

Deno.test("auth on: the SDK connects with its token option", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const sub = crypto.randomUUID();
  const client = new RealtimeClient({
    url: server.url,
    token: await signToken(SECRET, { sub, name: "Ada", rooms: ["lobby"] }),
  });
  await client.connectRealtime();
  assert.equal(client.user?.user_id, sub);
  await client.joinRealtime({ group: "lobby" });
  await assert.rejects(
    client.joinRealtime({ group: "elsewhere" }),
    (e: RealtimeError) => e.code === "UNAUTHORIZED",
  );
  await client.closeRealtime();
});

Deno.test("auth off: open and anonymous, a token is ignored, a claimed user_id too", async () => {
  await using server = await startHub();
  const claimed = crypto.randomUUID();
  const client = await rawClient(server.url, { user_id: claimed, token: "whatever" });
  assert.notEqual(client.welcome.user_id, claimed, "an id without its proof is never honoured");
  assert.ok(client.welcome.proof, "a fresh identity comes with its proof");
  assert.equal((await client.request({ type: "join", group: "any" })).type, "ack");
  await client.close();
});

Deno.test("origins: a listed or same-host origin opens the socket, another gets 403", async () => {
  await using server = await startHub({
    security: { allowedOrigins: ["https://app.example"] },
  });
  const { status, body } = await refusal(
    (req) => server.hub.handle(req),
    "",
    { origin: "https://evil.example" },
  );
  assert.equal(status, 403);
  assert.equal(body.code, "UNAUTHORIZED");
  assert.match(body.message, /https:\/\/evil\.example.*ALLOWED_ORIGINS/);
  assert.match(await attempt(server.url, { origin: "https://evil.example" }), /403/);
  assert.equal(await attempt(server.url, { origin: "https://app.example" }), "welcome");
  const self = new URL(server.url).host;
  assert.equal(await attempt(server.url, { origin: `http://${self}` }), "welcome");
  assert.equal(await attempt(server.url), "welcome", "no Origin: not a page, not refused");
});

Deno.test("limits: the socket over the per-address cap is refused (429), a slot frees on close", async () => {
  await using server = await startHub({ security: { maxConnectionsPerIp: 2 } });
  const a = await rawClient(server.url);
  const b = await rawClient(server.url);
  const { status, body } = await refusal((req) =>
    server.hub.handle(req, {
      remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    })
  );
  assert.equal(status, 429);
  assert.equal(body.code, "RATE_LIMITED");
  assert.match(body.message, /has 2 open, the most it may have/);
  const client = new RealtimeClient({ url: server.url });
  await assert.rejects(client.connectRealtime(), (e: RealtimeError) => {
    assert.equal(e.code, "RATE_LIMITED");
    return true;
  });
  await client.closeRealtime();
  // Another address is not affected.
  const other = await server.hub.handle(
    new Request("http://x/api/realtime", { headers: { upgrade: "websocket" } }),
    { remoteAddr: { transport: "tcp", hostname: "10.0.0.9", port: 1 } },
  ).catch((e) => e);
  assert.ok(!(other instanceof Response && other.status === 429));
  await a.close();
  await new Promise((r) => setTimeout(r, 50));
  const c = await rawClient(server.url);
  await b.close();
  await c.close();
});

Deno.test("limits: a full room answers ROOM_FULL; joins per minute are capped", async () => {
  await using server = await startHub({
    security: { maxUsersPerRoom: 2, maxJoinsPerMinute: 5 },
  });
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => rawClient(server.url)));
  assert.equal((await a.request({ type: "join", group: "small" })).type, "ack");
  assert.equal((await b.request({ type: "join", group: "small" })).type, "ack");
  const full = await c.request({ type: "join", group: "small" }) as {
    type: string;
    code: string;
    message: string;
  };
  assert.equal(full.type, "error");
  assert.equal(full.code, "ROOM_FULL");
  assert.match(full.message, /"small" as it has 2 users/);
  // One leaves: there is room again.
  assert.equal((await b.request({ type: "join", group: null })).type, "ack");
  assert.equal((await c.request({ type: "join", group: "small" })).type, "ack"); // 4th join
  assert.equal((await b.request({ type: "join", group: "other" })).type, "ack"); // 5th
  const limited = await b.request({ type: "join", group: "third" }) as { code: string };
  assert.equal(limited.code, "RATE_LIMITED");
  await Promise.all([a, b, c].map((x) => x.close()));
});

Deno.test("the room cap holds across hubs sharing one KV", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await using one = await startHub({ kv, security: { maxUsersPerRoom: 1 } });
    await using two = await startHub({ kv, security: { maxUsersPerRoom: 1 } });
    const a = await rawClient(one.url);
    const b = await rawClient(two.url);
    assert.equal((await a.request({ type: "join", group: "solo" })).type, "ack");
    assert.equal(
      (await b.request({ type: "join", group: "solo" }) as { code: string }).code,
      "ROOM_FULL",
    );
    await a.close();
    await b.close();
  } finally {
    kv.close();
  }
});

Deno.test("client address: the socket's, or X-Forwarded-For only behind trusted proxies", () => {
  const info = { remoteAddr: { transport: "tcp" as const, hostname: "10.0.0.1", port: 5 } };
  const req = new Request("http://x/", {
    headers: { "x-forwarded-for": "6.6.6.6, 1.2.3.4, 10.0.0.2" },
  });
  assert.equal(
    clientAddress(req, info, { hops: 0 }),
    "10.0.0.1",
    "the header is ignored by default",
  );
  assert.equal(clientAddress(req, info, { hops: 1 }), "10.0.0.2");
  assert.equal(clientAddress(req, info, { hops: 2 }), "1.2.3.4");
  assert.equal(clientAddress(new Request("http://x/"), info, { hops: 1 }), "10.0.0.1");
  let now = 0;
  const joins = new PerMinuteLimiter(60, () => now);
  for (let i = 0; i < 60; i++) assert.ok(joins.take("a"));
  assert.ok(!joins.take("a"));
  assert.ok(joins.take("b"));
  now += 1_000; // one more a second
  assert.ok(joins.take("a"));
  assert.ok(!joins.take("a"));
});

Deno.test("security settings: defaults and the environment", () => {
  assert.deepEqual(securityFromEnv({}), {
    authSecret: null,
    identitySecret: null,
    allowedOrigins: null,
    maxConnectionsPerIp: 2000,
    maxJoinsPerMinute: 2000,
    maxConnectsPerMinute: 1000,
    maxUsersPerRoom: 500,
    trustProxy: 0,
    trustedProxies: [],
  });
  const set = securityFromEnv({
    PARLEY_AUTH_SECRET: "s",
    ALLOWED_ORIGINS: "https://a.example, http://localhost:8000/",
    PARLEY_MAX_CONNECTIONS_PER_IP: "5",
    PARLEY_MAX_JOINS_PER_MINUTE: "6",
    PARLEY_MAX_CONNECTS_PER_MINUTE: "8",
    PARLEY_MAX_USERS_PER_ROOM: "7",
    PARLEY_TRUST_PROXY: "1",
    PARLEY_IDENTITY_SECRET: "i",
    PARLEY_TRUSTED_PROXIES: "10.0.0.1, FD00::1",
  });
  assert.deepEqual(set, {
    authSecret: "s",
    identitySecret: "i",
    trustedProxies: ["10.0.0.1", "fd00::1"],
    allowedOrigins: ["https://a.example", "http://localhost:8000"],
    maxConnectionsPerIp: 5,
    maxJoinsPerMinute: 6,
    maxConnectsPerMinute: 8,
    maxUsersPerRoom: 7,
    trustProxy: 1,
  });
  assert.equal(securityFromEnv({ ALLOWED_ORIGINS: "*" }).allowedOrigins, null);
  assert.throws(() => securityFromEnv({ ALLOWED_ORIGINS: "app.example" }), RangeError);
  assert.throws(() => securityFromEnv({ ALLOWED_ORIGINS: "https://a.example/path" }), RangeError);
  assert.throws(() => securityFromEnv({ PARLEY_MAX_USERS_PER_ROOM: "0" }), RangeError);
  assert.throws(() => securityFromEnv({ PARLEY_TRUST_PROXY: "yes" }), RangeError);
});

Deno.test("new connections per address per minute are limited: reconnecting refills no burst", async () => {
  await using server = await startHub({ security: { ...TEST_SECURITY, maxConnectsPerMinute: 3 } });
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await rawClient(server.url));
  const refused = await server.hub.handle(
    new Request(server.url.replace("ws:", "http:"), { headers: { upgrade: "websocket" } }),
    { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } } as Deno.ServeHandlerInfo,
  );
  assert.equal(refused.status, 429);
  const body = await refused.json();
  assert.equal(body.code, "RATE_LIMITED");
  assert.match(body.message, /opened 3 in the last minute/);
  await Promise.all(clients.map((c) => c.close()));
});
