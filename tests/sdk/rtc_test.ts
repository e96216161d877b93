/**
 * Units of the calls module that need no browser: channel presets, ICE
 * option resolution, the ring's channel validation, /api/ice's builder,
 * the ICE bound and the restart watchdog.
 *
 * @module
 */
import assert from "node:assert/strict";
import { checkSignal } from "../../lib/protocol/mod.ts";
import { channelSpecs, iceUrlFor, resolveIce } from "../../lib/sdk/mod.ts";
import { DEFAULT_TIMEOUTS } from "../../lib/sdk/defaults.ts";
import { IceHealth, IceWatchdog } from "../../lib/sdk/rtc/restart.ts";
import { iceServers, turnCredential } from "../../lib/server/ice.ts";

Deno.test("channelSpecs: default, presets named as their protocol, custom, duplicates", () => {
  assert.deepEqual(channelSpecs(undefined), [
    { label: "default", id: 0, ordered: true, protocol: "default" },
  ]);
  assert.deepEqual(channelSpecs(["text-chat", "gaming", "voice-chat"]), [
    { label: "text-chat", id: 0, ordered: true, protocol: "text-chat" },
    { label: "gaming", id: 1, ordered: false, maxPacketLifeTime: 100, protocol: "gaming" },
    { label: "voice-chat", id: 2, ordered: true, maxRetransmits: 2, protocol: "voice-chat" },
  ]);
  assert.deepEqual(channelSpecs([{ label: "moves", ordered: false, maxRetransmits: 0 }]), [
    { label: "moves", id: 0, ordered: false, maxRetransmits: 0 },
  ]);
  // As in Skapi: an init without a label is named by its protocol, else "default".
  assert.deepEqual(channelSpecs([{ ordered: true }]), [{ label: "default", id: 0, ordered: true }]);
  assert.deepEqual(channelSpecs([{ protocol: "chess" }]), [
    { label: "chess", id: 0, ordered: true, protocol: "chess" },
  ]);
  assert.throws(() => channelSpecs([{}, {}]), {
    name: "RealtimeError",
    message: /"default" is used twice/,
  });
  assert.throws(() => channelSpecs(["text-chat", "text-chat"]), {
    name: "RealtimeError",
    message: /used twice/,
  });
  assert.throws(() => channelSpecs(["chat" as never]), {
    name: "RealtimeError",
    message: /preset must be one of/,
  });
});

Deno.test("iceUrlFor derives /api/ice from the realtime URL", () => {
  assert.deepEqual(iceUrlFor("wss://example.com/api/realtime"), "https://example.com/api/ice");
  assert.deepEqual(
    iceUrlFor("ws://127.0.0.1:8000/api/realtime?x=1"),
    "http://127.0.0.1:8000/api/ice",
  );
});

Deno.test("resolveIce: URL string, server list, configuration, default fetch", async () => {
  const url = "ws://h/api/realtime";
  assert.deepEqual(await resolveIce("stun:s:3478", url), { iceServers: [{ urls: "stun:s:3478" }] });
  assert.deepEqual(
    await resolveIce(
      [{ url: "turn:t", username: "u", credential: "c" } as unknown as RTCIceServer],
      url,
    ),
    { iceServers: [{ username: "u", credential: "c", urls: "turn:t" }] },
  );
  assert.deepEqual(await resolveIce({ iceTransportPolicy: "relay" }, url), {
    iceTransportPolicy: "relay",
    iceServers: [],
  });
  let asked = "";
  const fake = ((input: string) => {
    asked = input;
    return Promise.resolve(Response.json({ iceServers: [{ urls: ["stun:x"] }] }));
  }) as typeof fetch;
  assert.deepEqual(await resolveIce(undefined, url, fake), { iceServers: [{ urls: ["stun:x"] }] });
  assert.deepEqual(asked, "http://h/api/ice");
  const down = (() => Promise.resolve(new Response("", { status: 500 }))) as typeof fetch;
  await resolveIce(undefined, url, down).then(
    () => Promise.reject(new Error("should fail")),
    (error) => assert.deepEqual(error.code, "NOT_FOUND"),
  );
});

Deno.test("a ring's channels are validated", () => {
  checkSignal({ kind: "call", call: "c1", channels: [{ label: "a", id: 0, ordered: true }] });
  assert.throws(
    () =>
      checkSignal({
        kind: "call",
        call: "c1",
        channels: [{ label: "a", id: 0 }, { label: "b", id: 0 }],
      }),
    { name: "TypeError", message: /unique integer/ },
  );
  assert.throws(
    () => checkSignal({ kind: "call", call: "c1", channels: [{ label: "a", id: 0, x: 1 }] }),
    { name: "TypeError", message: /not a field/ },
  );
  assert.throws(
    () =>
      checkSignal({
        kind: "call",
        call: "c1",
        channels: [{ label: "a", id: 0, maxRetransmits: 1, maxPacketLifeTime: 1 }],
      }),
    { name: "TypeError", message: /cannot be set with/ },
  );
});

Deno.test("/api/ice: public STUN by default, none with STUN_URLS=none, TURN from the environment", async () => {
  assert.deepEqual(await iceServers({}), {
    iceServers: [{ urls: ["stun:stun.l.google.com:19302", "stun:stun.cloudflare.com:3478"] }],
  });
  assert.deepEqual(await iceServers({ STUN_URLS: "none" }), { iceServers: [] });
  assert.deepEqual(await iceServers({ STUN_URLS: "stun:a:3478, stun:b" }), {
    iceServers: [{ urls: ["stun:a:3478", "stun:b"] }],
  });
  const turn = await iceServers(
    { STUN_URLS: "none", TURN_URLS: "turn:t:3478", TURN_SECRET: "s", TURN_TTL: "60" },
    1e12,
  );
  assert.deepEqual(turn.iceServers[0].username, `${1e9 + 60}:parley`);
  assert.deepEqual(
    await turnCredential("secret", "1700000000:parley"),
    "7ZLJDMIc7ct8niNh/B9If+DliRE=",
  );
});

Deno.test("a call that finds no path ends within 45 s of accepting, by default", () => {
  // From the callee's accept, the caller learns of it within one request
  // timeout (the relayed accept signal), then the ICE bound runs; the bed test
  // (tests/e2e/nat_test.ts) shows the bound ends the call with ICE_FAILED.
  const worst = DEFAULT_TIMEOUTS.request + DEFAULT_TIMEOUTS.ice;
  if (!(worst <= 45_000)) throw new Error(`the caller may wait ${worst} ms after accepting`);
});

Deno.test("a hang-up may carry the ICE_FAILED code, and no other", () => {
  checkSignal({ kind: "hangup", call: "c1", reason: "no path", code: "ICE_FAILED" });
  assert.throws(
    () => checkSignal({ kind: "hangup", call: "c1", code: "BUSY" }),
    { name: "TypeError", message: /signal\.code.*ICE_FAILED/ },
  );
  assert.throws(
    () => checkSignal({ kind: "reject", call: "c1", code: "ICE_FAILED" }),
    { name: "TypeError", message: /code/ },
  );
});

Deno.test("the ICE watchdog restarts a failed connection once per attempt, then gives up", async () => {
  const pc = Object.assign(new EventTarget(), {
    connectionState: "new" as RTCPeerConnectionState,
    restarts: 0,
    restartIce() {
      this.restarts++;
    },
  });
  const become = (state: RTCPeerConnectionState) => {
    pc.connectionState = state;
    pc.dispatchEvent(new Event("connectionstatechange"));
  };
  const gaveUp = Promise.withResolvers<string>();
  const watchdog = new IceWatchdog(pc as unknown as RTCPeerConnection, {
    onGiveUp: gaveUp.resolve,
    timeouts: { restartTimeout: 30, maxAttempts: 2 },
  });
  become("failed");
  assert.deepEqual([pc.restarts, watchdog.health], [1, IceHealth.Restarting]);
  become("failed"); // still failed while restarting: the restart gets its time
  assert.deepEqual(pc.restarts, 1);
  const reason = await gaveUp.promise;
  assert.deepEqual([pc.restarts, watchdog.health], [2, IceHealth.Stopped]);
  if (!/2 ICE restart/.test(reason)) throw new Error(reason);
  become("failed");
  assert.deepEqual(pc.restarts, 2);
});
