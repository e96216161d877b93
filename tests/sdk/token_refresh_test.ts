/**
 * Short-lived access tokens and the SDK's `getToken()` option: without it
 * the server closes the connection at the token's expiry; with it the SDK
 * replaces the token on the live connection shortly before, so a call (two
 * werift peers, a real data channel) stays up across several expiries.
 * Runs inside tests/netns.sh (call traffic stays in the namespace).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import type { RTCConnection } from "../../lib/sdk/mod.ts";
import { signToken } from "../../lib/server/auth.ts";
import { startHub } from "../_helpers/hub.ts";
import { startProxy } from "../_helpers/proxy.ts";
import { freePort } from "../_helpers/process.ts";
import { waitFor } from "../_helpers/wait.ts";
import { spawnTurn } from "../_helpers/turn.ts";
import { weriftPeerConnection } from "../_helpers/werift.ts";

const SECRET = "refresh-secret-of-32-bytes-or-more-0";
const TTL_SECONDS = 3;

Deno.test("without getToken the connection ends at the token's expiry, and is not retried", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  // 2 s, not 1: `exp` is in whole seconds, and a loaded machine's connect
  // could outlast a token that has less than one left.
  const token = await signToken(SECRET, { sub: crypto.randomUUID() }, 2);
  const seen: RealtimeCallbackEvent[] = [];
  const client = new RealtimeClient({ url: server.url, token });
  await client.connectRealtime((e) => seen.push(e));
  await waitFor(() => client.state === "disconnected", { timeout: 8_000, message: "closed" });
  assert.equal(seen.some((e) => e.type === "reconnect"), false, "no retry with a dead token");
  await client.closeRealtime();
});

Deno.test("getToken() refreshes before expiry: a call stays up across three expiries", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const stunPort = freePort();
  const stun = spawnTurn(stunPort);
  const ice = `stun:127.0.0.1:${stunPort}`;
  const minted = { ada: 0, bob: 0 };
  const tokenFor = (who: "ada" | "bob", sub: string) => () => {
    minted[who]++;
    return signToken(SECRET, { sub, rooms: ["call-room"] }, TTL_SECONDS);
  };
  const ada = new RealtimeClient({
    url: server.url,
    getToken: tokenFor("ada", crypto.randomUUID()),
    RTCPeerConnection: weriftPeerConnection({ iceAdditionalHostAddresses: ["127.0.0.1"] }),
  });
  const bob = new RealtimeClient({
    url: server.url,
    getToken: tokenFor("bob", crypto.randomUUID()),
    RTCPeerConnection: weriftPeerConnection({ iceAdditionalHostAddresses: ["127.0.0.1"] }),
  });
  const events: RealtimeCallbackEvent[] = [];
  let bobCall: Promise<RTCConnection | null> | undefined;
  const bobGot: unknown[] = [];
  try {
    await ada.connectRealtime((e) => events.push(e));
    await bob.connectRealtime((e) => {
      events.push(e);
      if (e.type === "rtc:incoming") {
        bobCall = e.connectRTC({ ice }, (m) => {
          if (m.type === "message") bobGot.push(m.data);
        });
      }
    });
    await ada.joinRealtime({ group: "call-room" });
    await bob.joinRealtime({ group: "call-room" });
    const cids = { ada: ada.user!.cid, bob: bob.user!.cid };
    const caller = await ada.connectRTC({ cid: cids.bob, ice, channels: ["text-chat"] }, () => {});
    const call = await caller.connection;
    assert.ok(call, "the call was accepted");
    await waitFor(() => call.channels["text-chat"]?.readyState === "open", {
      timeout: 20_000,
      message: "channel open",
    });
    assert.ok(await bobCall);
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < 3 * TTL_SECONDS * 1000 + 500) {
      call.channels["text-chat"].send(`tick ${n++}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitFor(() => bobGot.includes(`tick ${n - 1}`), { timeout: 5_000, message: "last tick" });
    assert.equal(call.target.connectionState, "connected", "the call stayed up");
    // The signaling too: same connections, never lost, tokens replaced in place.
    assert.deepEqual({ ada: ada.user!.cid, bob: bob.user!.cid }, cids);
    assert.equal(ada.state, "connected");
    assert.equal(bob.state, "connected");
    assert.deepEqual(events.filter((e) => e.type === "reconnect" || e.type === "error"), []);
    assert.ok(minted.ada >= 3 && minted.bob >= 3, `tokens minted: ${JSON.stringify(minted)}`);
    await ada.postRealtime("still here");
    await call.hangup();
  } finally {
    await ada.closeRealtime();
    await bob.closeRealtime();
    await stun.stop();
  }
});

Deno.test("getToken() is asked again on each reconnect; the resumed connection keeps its cid", async () => {
  await using server = await startHub({
    security: { authSecret: SECRET },
    limits: { resumeGraceMs: 10_000 },
  });
  await using proxy = startProxy(Number(new URL(server.url).port));
  const sub = crypto.randomUUID();
  let minted = 0;
  const client = new RealtimeClient({
    url: proxy.url,
    timeouts: { reconnectBase: 100, reconnectMax: 200 },
    getToken: () => {
      minted++;
      return signToken(SECRET, { sub, rooms: ["*"] }, 600);
    },
  });
  await client.connectRealtime();
  assert.equal(minted, 1, "the first connect asks too, as no token was given");
  const cid = client.user!.cid;
  proxy.cut();
  await waitFor(() => minted === 2 && client.state === "connected", {
    timeout: 10_000,
    message: "reconnected with a fresh token",
  });
  assert.equal(client.user!.cid, cid, "resumed (the resume secret went in the hello)");
  await client.closeRealtime();
});
