/**
 * The SDK and the server check each other's protocol version on connect: an
 * SDK too new or too old for the server is refused, and its connect rejects
 * with `UNSUPPORTED_VERSION`, naming the SDK's release and both protocol
 * versions; it does not retry.
 */
import assert from "node:assert/strict";
import {
  ConnectionState,
  PROTOCOL_VERSION,
  RealtimeClient,
  RealtimeError,
  SDK_VERSION,
} from "../../lib/sdk/mod.ts";
import type { SignalRef } from "../../lib/protocol/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

/**
 * A WebSocket relay in front of `upstream` that rewrites the `v` the SDK
 * sends, so this SDK passes for one of another protocol version; frames
 * and the close (code and reason) are passed back unchanged.
 */
function versionRewriter(upstream: string, v: string) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(upstream);
    url.search = new URL(req.url).search;
    url.searchParams.set("v", v);
    const { socket, response } = Deno.upgradeWebSocket(req);
    const up = new WebSocket(url);
    up.onmessage = (event) => socket.readyState === 1 && socket.send(event.data);
    up.onclose = (event) => socket.readyState === 1 && socket.close(event.code, event.reason);
    // What the SDK sends before the upstream is open (its hello) waits for it.
    const early: string[] = [];
    up.onopen = () => early.splice(0).forEach((data) => up.send(data));
    socket.onmessage = (event) =>
      up.readyState === 1 ? up.send(event.data) : early.push(event.data);
    socket.onclose = () => up.close();
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/api/realtime`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function connectFails(url: string): Promise<RealtimeError> {
  const client = new RealtimeClient({ url, timeouts: { reconnectBase: 10 } });
  const error = await client.connectRealtime().then(
    () => assert.fail("connected despite the version mismatch"),
    (error) => error,
  );
  // No retry loop: the state stays disconnected.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(client.state, ConnectionState.Disconnected);
  await client.closeRealtime();
  assert.ok(error instanceof RealtimeError, String(error));
  assert.equal(error.code, "UNSUPPORTED_VERSION");
  assert.ok(error.message.includes(`parley-sdk ${SDK_VERSION}`), error.message);
  return error;
}

Deno.test("an SDK too new or too old for the server is refused, both versions named", async () => {
  await using hub = await startHub();
  // The server speaks v1 to v3 (PROTOCOL_VERSIONS); v0 is older than all.
  for (const [v, side] of [[PROTOCOL_VERSION + 1, "new"], [0, "old"]]) {
    await using relay = versionRewriter(hub.url, String(v));
    const error = await connectFails(relay.url);
    assert.match(
      error.message,
      new RegExp(
        `the server refused it: Protocol v${v} is not spoken here: this server speaks v${PROTOCOL_VERSION}, so the SDK is too ${side}`,
      ),
    );
  }
  assert.equal(hub.hub.counts.sockets, 0);
});

Deno.test("a server whose welcome announces another version is left at once", async () => {
  const announced = PROTOCOL_VERSION + 1;
  // A server that does not check the client's `v`, but says its own.
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () =>
      socket.send(JSON.stringify({
        type: "welcome",
        v: announced,
        cid: "cid:" + "A".repeat(24),
        user_id: crypto.randomUUID(),
        name: "x",
        isolate: "i",
        heartbeat: 25_000,
        session: "s",
        grace: 30_000,
        resumed: false,
        group: null,
      }));
    return response;
  });
  const error = await connectFails(`ws://127.0.0.1:${server.addr.port}/api/realtime`);
  assert.match(
    error.message,
    new RegExp(
      `protocol v${PROTOCOL_VERSION}\\) as the server speaks protocol v${announced}, so the SDK is too old`,
    ),
  );
});

Deno.test("welcomed as v3 the SDK relays signals unacked (a failure comes as signalerror); as v2, an older server, it asks for acks", async () => {
  await using hub = await startHub();
  await using v2 = versionRewriter(hub.url, "2");
  const bob = await rawClient(hub.url, { v: "3" });
  const nobody = "cid:" + "Z".repeat(24);
  const candidate = { kind: "candidate", call: "c1", candidate: null } as const;
  for (const [url, v] of [[hub.url, 3], [v2.url, 2]] as const) {
    const sent: Array<Record<string, unknown>> = [];
    const appEvents: string[] = [];
    const sdk = new RealtimeClient({
      url,
      WebSocket: class extends WebSocket {
        override send(data: string) {
          sent.push(JSON.parse(data));
          super.send(data);
        }
      },
    });
    await sdk.connectRealtime((event) => appEvents.push(event.type));
    assert.equal(sdk.signaling.welcome?.v, v);
    const failed: Array<[SignalRef, string]> = [];
    sdk.signaling.on("signalerror", (ref, error) => failed.push([ref, error.code]));
    const before = bob.frames.length;
    await sdk.signaling.relay(bob.welcome.cid, candidate, "send a candidate");
    await bob.next((f) => f.type === "signal", 5_000, before);
    const relayToNobody = sdk.signaling.relay(nobody, candidate, "send a candidate");
    if (v === 3) {
      await relayToNobody;
      await waitFor(() => failed.length === 1);
      assert.deepEqual(failed, [[{ to: nobody, call: "c1", kind: "candidate" }, "NOT_FOUND"]]);
    } else {
      await assert.rejects(
        relayToNobody,
        (e) => e instanceof RealtimeError && e.code === "NOT_FOUND",
      );
      assert.deepEqual(failed, []);
    }
    const signals = sent.filter((f) => f.type === "signal");
    assert.equal(signals.length, 2);
    assert.ok(signals.every((f) => ("id" in f) === (v === 2)), JSON.stringify(signals));
    assert.ok(!appEvents.includes("error"), "a signal's failure is the call's, not the app's");
    await sdk.closeRealtime();
  }
  await bob.close();
});
