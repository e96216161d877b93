import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { decodeLine, encodeLine } from "../../lib/server/cluster.ts";
import { BUS_KEYS } from "../../lib/server/bus.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/server.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

Deno.test("bus lines carry the target and the frame's text", () => {
  for (
    const target of [{ group: "a.b-c_d" }, { user_id: crypto.randomUUID() }, {
      cid: "cid:" + "A".repeat(22),
    }]
  ) {
    const text = JSON.stringify({ type: "message", message: "tab\there" });
    assert.deepEqual(decodeLine(encodeLine(target, text)), { target, text });
  }
  assert.equal(decodeLine("x1\t{}"), null);
});

for (const broadcast of [true, false]) {
  Deno.test(`two hubs on one KV (broadcast ${broadcast ? "on" : "off"}): everything crosses`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "parley-cluster-" });
    const kvA = await Deno.openKv(`${dir}/kv.sqlite3`);
    const kvB = await Deno.openKv(`${dir}/kv.sqlite3`);
    const cluster = { broadcast };
    const hubA = await startHub({ kv: kvA, isolate: "iso-a", cluster });
    const hubB = await startHub({ kv: kvB, isolate: "iso-b", cluster });
    const a = await rawClient(hubA.url, { name: "Ada" });
    const b = await rawClient(hubB.url, { name: "Bob" });
    const bUser = b.welcome.user_id;
    // Bob's second device, on A: the proof holds across isolates (one secret in KV).
    const b2 = await rawClient(hubA.url, {}, { hello: { proof: b.welcome.proof } });
    assert.equal(b2.welcome.user_id, bUser);
    assert.equal(a.welcome.isolate, "iso-a");
    assert.equal(b.welcome.isolate, "iso-b");

    await a.request({ type: "join", group: "g" });
    await b.request({ type: "join", group: "g" });
    // A hears B's join (from B's isolate), B its own.
    const joined = await a.next<Notice>((f) =>
      f.type === "notice" && f.code === "USER_JOINED" && f.sender_cid === b.welcome.cid
    );
    assert.equal(joined.name, "Bob");

    // A broadcast reaches both isolates; the count spans the cluster.
    const posted = await b.request({ type: "post", message: { n: 1 } });
    assert.deepEqual((posted as { result: unknown }).result, { delivered: 2 });
    for (const client of [a, b]) {
      const got = await client.next((f) => f.type === "message");
      assert.deepEqual((got as { message: unknown }).message, { n: 1 });
    }

    // A private message reaches every connection of the user, on both isolates.
    const psst = await a.request({ type: "post", message: "psst", recipient: bUser });
    assert.deepEqual((psst as { result: unknown }).result, { delivered: 2 });
    for (const device of [b, b2]) {
      const got = await device.next((f) => f.type === "private");
      assert.equal((got as { sender_cid: string }).sender_cid, a.welcome.cid);
    }

    // RTC signals to a cid on the other isolate, in order.
    for (let i = 0; i < 20; i++) {
      const ack = await a.request({
        type: "signal",
        to: b.welcome.cid,
        signal: { kind: "candidate", call: "c1", candidate: { candidate: `candidate:${i}` } },
      });
      assert.equal(ack.type, "ack");
    }
    await waitFor(() => b.frames.filter((f) => f.type === "signal").length === 20);
    assert.deepEqual(
      b.frames.flatMap((f) =>
        f.type === "signal" && f.signal.kind === "candidate" ? [f.signal.candidate?.candidate] : []
      ),
      Array.from({ length: 20 }, (_, i) => `candidate:${i}`),
    );

    // A rename and a leave cross too; then a disconnect.
    await b.request({ type: "rename", name: "Robert" });
    await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_RENAMED");
    await b.request({ type: "join", group: null });
    await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_LEFT");
    await b.request({ type: "join", group: "g" });
    await b.close();
    const gone = await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_DISCONNECTED");
    assert.equal(gone.sender_cid, b.welcome.cid);

    // NOT_FOUND holds cluster-wide once B is gone.
    const missing = await a.request({
      type: "signal",
      to: b.welcome.cid,
      signal: { kind: "hangup", call: "c1" },
    });
    assert.equal((missing as { code: string }).code, "NOT_FOUND");

    // Nothing was delivered twice.
    const messages = a.frames.filter((f) => f.type === "message" || f.type === "notice");
    assert.equal(new Set(messages.map((f) => JSON.stringify(f))).size, messages.length);

    await a.close();
    await b2.close();
    await hubA.close();
    await hubB.close();
    // The inboxes are consumed and removed, the isolates' records too.
    assert.deepEqual(await Array.fromAsync(kvA.list({ prefix: ["parley"] })), []);
    assert.equal((await kvA.get(BUS_KEYS.head("iso-a"))).value, null);
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  });
}
