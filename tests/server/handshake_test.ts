import assert from "node:assert/strict";
import { LIMITS } from "../../lib/protocol/mod.ts";
import { awaitHello, closeReason } from "../../lib/server/handshake.ts";

/** A socket-shaped EventTarget: what awaitHello listens to. */
function fakeSocket() {
  const target = new EventTarget() as EventTarget & {
    onmessage: ((event: MessageEvent) => void) | null;
  };
  target.onmessage = null;
  return {
    socket: target,
    receive: (data: string) => target.onmessage?.(new MessageEvent("message", { data })),
    close: () => target.dispatchEvent(new Event("close")),
  };
}

Deno.test("awaitHello: the hello, or a reason for anything else", async () => {
  const ok = fakeSocket();
  const hello = awaitHello(ok.socket, LIMITS, 1_000);
  ok.receive('{"type":"hello","proof":"p"}');
  assert.deepEqual(await hello, { type: "hello", proof: "p" });
  assert.equal(ok.socket.onmessage, null, "the hub binds its own handler next");

  const wrong = fakeSocket();
  const first = awaitHello(wrong.socket, LIMITS, 1_000);
  wrong.receive('{"type":"join","id":1,"group":"g"}');
  assert.match(String(await first), /first frame must be the hello/);

  const bad = fakeSocket();
  const forged = awaitHello(bad.socket, LIMITS, 1_000);
  bad.receive('{"type":"hello","resume":{"cid":"x","session":"s","received":0}}');
  assert.match(String(await forged), /Bad hello: .*resume\.cid/);

  const silent = fakeSocket();
  assert.match(String(await awaitHello(silent.socket, LIMITS, 50)), /No hello frame within 50 ms/);

  const gone = fakeSocket();
  const closed = awaitHello(gone.socket, LIMITS, 1_000);
  gone.close();
  assert.match(String(await closed), /Closed before the hello/);
});

Deno.test("closeReason fits a WebSocket close reason (123 bytes of UTF-8)", () => {
  assert.equal(closeReason("short"), "short");
  assert.equal(new TextEncoder().encode(closeReason("é".repeat(100))).length <= 123, true);
  assert.equal(closeReason("x".repeat(200)).length, 123);
});
