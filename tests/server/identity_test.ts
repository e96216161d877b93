/**
 * Identities the server issues, and every way tried to be someone else:
 * claiming a victim's id in the query or in the first frame, presenting a
 * forged or foreign proof, resuming the victim's cid. None of them receives
 * the victim's private messages or posts as the victim.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { RealtimeClient } from "../../lib/sdk/mod.ts";
import { signToken } from "../../lib/server/auth.ts";
import { IDENTITY_SECRET_KEY, IdentityProofs } from "../../lib/server/identity.ts";
import { type RawClient, rawClient, startHub } from "../_helpers/hub.ts";

type Welcome = Extract<ServerFrame, { type: "welcome" }>;

Deno.test("proofs: issued for a fresh id, verified, refused when forged or foreign", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const proofs = new IdentityProofs(kv, null);
    const { user_id, proof } = await proofs.issue();
    assert.match(user_id, /^[0-9a-f-]{36}$/);
    assert.equal(await proofs.verify(proof), user_id);
    // The generated secret is kept in KV: another isolate (another instance) agrees.
    assert.ok((await kv.get(IDENTITY_SECRET_KEY as unknown as string[])).value);
    assert.equal(await new IdentityProofs(kv, null).verify(proof), user_id);
    const other = new IdentityProofs(await Deno.openKv(":memory:"), "another-secret");
    assert.equal(await other.verify(proof), null, "signed by another secret");
    assert.equal(await proofs.verify((await other.issue(user_id)).proof), null);
    const [head, , signature] = proof.split(".");
    const body = btoa(JSON.stringify({ sub: crypto.randomUUID(), aud: "parley-identity" }))
      .replaceAll("=", "");
    assert.equal(await proofs.verify(`${head}.${body}.${signature}`), null, "edited payload");
    assert.equal(await proofs.verify("garbage"), null);
    other.kv.close();
  } finally {
    kv.close();
  }
});

Deno.test("proofs: PARLEY_IDENTITY_SECRET signs when set; an access token is not a proof", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const proofs = new IdentityProofs(kv, "configured-secret");
    const { proof, user_id } = await proofs.issue();
    assert.equal(await new IdentityProofs(kv, "configured-secret").verify(proof), user_id);
    assert.equal((await kv.get(IDENTITY_SECRET_KEY as unknown as string[])).value, null);
    const token = await signToken("configured-secret", { sub: user_id });
    assert.equal(await proofs.verify(token), null, "an access token is not an identity proof");
  } finally {
    kv.close();
  }
});

/** A victim in a room, a friend who writes to her privately, and a way to check her inbox. */
async function scene(url: string) {
  const victim = await rawClient(url, { name: "Victim" });
  const friend = await rawClient(url, { name: "Friend" });
  await victim.request({ type: "join", group: "g" });
  await friend.request({ type: "join", group: "g" });
  return { victim, friend };
}

/** Asserts that `impostor` got no copy of a fresh private message to the victim and posts as itself. */
async function assertNotVictim(
  impostor: RawClient,
  victim: RawClient,
  friend: RawClient,
): Promise<void> {
  const secret = `for the victim only ${crypto.randomUUID()}`;
  const ack = await friend.request({
    type: "post",
    message: secret,
    recipient: victim.welcome.user_id,
  });
  assert.deepEqual((ack as { result: unknown }).result, { delivered: 1 }, "only the victim");
  await victim.next((f) => f.type === "private" && (f as { message: string }).message === secret);
  if (impostor.socket.readyState === WebSocket.OPEN) {
    // Round trip on the impostor's own socket: anything for it has arrived by now.
    await impostor.request({ type: "groups" });
    assert.equal(impostor.frames.some((f) => f.type === "private"), false);
    await impostor.request({ type: "join", group: "g" });
    const claim = `I am the victim ${crypto.randomUUID()}`;
    await impostor.request({ type: "post", message: claim });
    const seen = await friend.next<Extract<ServerFrame, { type: "message" }>>((f) =>
      f.type === "message" && (f as { message: string }).message === claim
    );
    assert.notEqual(seen.sender, victim.welcome.user_id, "stamped with its own id");
    assert.equal(seen.sender, impostor.welcome.user_id);
  }
}

Deno.test("impersonation: a victim's id claimed in the query is never honoured", async () => {
  await using server = await startHub();
  const { victim, friend } = await scene(server.url);
  const impostor = await rawClient(server.url, { user_id: victim.welcome.user_id, name: "Victim" });
  assert.notEqual(impostor.welcome.user_id, victim.welcome.user_id);
  await assertNotVictim(impostor, victim, friend);
  await Promise.all([victim, friend, impostor].map((c) => c.close()));
});

Deno.test("impersonation: a user_id in the first frame is refused; no welcome as the victim", async () => {
  await using server = await startHub();
  const { victim, friend } = await scene(server.url);
  const url = new URL(server.url);
  url.searchParams.set("hello", "1");
  const socket = new WebSocket(url);
  const frames: string[] = [];
  socket.onmessage = (e) => frames.push(e.data);
  socket.onopen = () =>
    socket.send(JSON.stringify({ type: "hello", user_id: victim.welcome.user_id }));
  const closed = await new Promise<CloseEvent>((r) => socket.onclose = r);
  assert.equal(closed.code, 4003);
  assert.match(closed.reason, /Bad hello.*'user_id' is not a field/);
  assert.deepEqual(frames, [], "never welcomed");
  await Promise.all([victim, friend].map((c) => c.close()));
});

Deno.test("impersonation: proofs forged, signed by another secret, or someone else's with the victim's id claimed", async () => {
  await using server = await startHub();
  const { victim, friend } = await scene(server.url);
  const elsewhere = new IdentityProofs(await Deno.openKv(":memory:"), "another-deployment");
  const foreign = (await elsewhere.issue(victim.welcome.user_id)).proof;
  const key = new TextEncoder().encode("guessed-secret");
  const forged = await new SignJWT({}).setProtectedHeader({ alg: "HS256" })
    .setSubject(victim.welcome.user_id).setAudience("parley-identity").sign(key);
  const bystander = await rawClient(server.url);
  const attempts: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    ["signed by another secret", {}, { proof: foreign }],
    ["forged with a guessed secret", {}, { proof: forged }],
    ["its own proof, the victim's id in the query", { user_id: victim.welcome.user_id }, {
      proof: bystander.welcome.proof,
    }],
  ];
  for (const [what, query, hello] of attempts) {
    const impostor = await rawClient(server.url, query, { hello });
    assert.notEqual(impostor.welcome.user_id, victim.welcome.user_id, what);
    await assertNotVictim(impostor, victim, friend);
    await impostor.close();
  }
  elsewhere.kv.close();
  await Promise.all([victim, friend, bystander].map((c) => c.close()));
});

Deno.test("impersonation: resuming the victim's cid takes nothing over", async () => {
  await using server = await startHub({ limits: { resumeGraceMs: 10_000 } });
  const { victim, friend } = await scene(server.url);
  const cid = victim.welcome.cid;
  // The old way, the secret in the URL, is refused outright.
  const inUrl = await server.hub.handle(
    new Request(`http://127.0.0.1/api/realtime?resume=${cid}&session=x`, {
      headers: { upgrade: "websocket" },
    }),
  );
  assert.equal(inUrl.status, 400);
  assert.match((await inUrl.json()).message, /Cannot resume through the URL/);
  // A guessed secret, and even the right one under another identity, start afresh.
  const session = victim.welcome.session;
  for (
    const resume of [
      { cid, session: "guessed", received: 0 },
      { cid, session, received: 0 },
    ]
  ) {
    const impostor = await rawClient(server.url, {}, { hello: { resume } });
    const welcome: Welcome = impostor.welcome;
    assert.equal(welcome.resumed, false);
    assert.notEqual(welcome.cid, cid);
    assert.equal(server.hub.registry.get(cid)?.socket.readyState, WebSocket.OPEN, "untouched");
    await assertNotVictim(impostor, victim, friend);
    await impostor.close();
  }
  await Promise.all([victim, friend].map((c) => c.close()));
});

Deno.test("the SDK keeps its proof: a reconnect of the same client is the same user", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  await client.connectRealtime();
  const first = client.user!.user_id;
  await client.closeRealtime();
  await client.connectRealtime();
  assert.equal(client.user!.user_id, first, "the proof of the first welcome was presented");
  const stranger = new RealtimeClient({ url: server.url });
  await stranger.connectRealtime();
  assert.notEqual(stranger.user!.user_id, first);
  await client.closeRealtime();
  await stranger.closeRealtime();
});
