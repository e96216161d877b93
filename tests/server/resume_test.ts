import assert from "node:assert/strict";
import {
  type RealtimeCallbackEvent,
  RealtimeClient,
  type RealtimeClientOptions,
} from "../../lib/sdk/mod.ts";
import { startHub } from "../_helpers/hub.ts";
import { startProxy } from "../_helpers/proxy.ts";
import { waitFor } from "../_helpers/wait.ts";

const port = (url: string) => Number(new URL(url).port);
const fast: RealtimeClientOptions["timeouts"] = { reconnectBase: 200, reconnectMax: 400 };

/** A client and what it has seen. */
async function client(url: string, name: string) {
  const seen: RealtimeCallbackEvent[] = [];
  const skapi = new RealtimeClient({ url, name, timeouts: fast });
  await skapi.connectRealtime((event) => seen.push(event));
  await skapi.joinRealtime({ group: "g" });
  return { skapi, seen };
}

const churn = (seen: RealtimeCallbackEvent[], cid: string) =>
  seen.filter((e) => e.type === "notice" && e.sender_cid === cid && e.code !== "USER_JOINED");

Deno.test("a network blip: the client resumes its cid and gets what was sent meanwhile", async () => {
  await using server = await startHub({ limits: { resumeGraceMs: 10_000 } });
  await using proxy = startProxy(port(server.url));
  const ada = await client(proxy.url, "Ada");
  const bob = await client(server.url, "Bob");
  const cid = ada.skapi.user!.cid;

  proxy.down = true;
  proxy.cut(); // no close frame: the server sees the socket drop (1006)
  await waitFor(() => ada.skapi.state === "reconnecting", {
    message: "the client noticed",
    timeout: 10_000,
  });
  // While Ada is away, Bob writes to her privately and to the group: both acked.
  await bob.skapi.postRealtime("while you were out", ada.skapi.user!.user_id);
  await bob.skapi.postRealtime({ n: 1 });
  proxy.down = false;

  await waitFor(() => ada.seen.some((e) => e.type === "private"), {
    message: "the private message arrived",
    timeout: 10_000,
  });
  await waitFor(() => ada.seen.some((e) => e.type === "message"), {
    message: "the group message arrived",
    timeout: 10_000,
  });
  assert.equal(ada.skapi.user!.cid, cid, "same cid");
  assert.ok(
    ada.seen.some((e) => e.type === "success" && e.resumed),
    "resumed, not a fresh connection",
  );
  assert.deepEqual(churn(bob.seen, cid), [], "the group saw no leave or disconnect");
  const users = await bob.skapi.getRealtimeUsers();
  assert.deepEqual(users.list.map((u) => u.cid).sort(), [cid, bob.skapi.user!.cid].sort());
  // Exactly once: the group message is not replayed twice.
  assert.equal(ada.seen.filter((e) => e.type === "message").length, 1);
  await ada.skapi.closeRealtime();
  await bob.skapi.closeRealtime();
});

Deno.test("after the grace period the group sees USER_DISCONNECTED and a return is fresh", async () => {
  await using server = await startHub({ limits: { resumeGraceMs: 300 } });
  await using proxy = startProxy(port(server.url));
  const ada = await client(proxy.url, "Ada");
  const bob = await client(server.url, "Bob");
  const cid = ada.skapi.user!.cid;
  const successes = () => ada.seen.filter((e) => e.type === "success");
  const before = successes().length;
  proxy.down = true;
  proxy.cut();
  await waitFor(() => bob.seen.some((e) => e.type === "notice" && e.code === "USER_DISCONNECTED"), {
    message: "disconnected after the grace",
    timeout: 10_000,
  });
  const refused = await bob.skapi.postRealtime("gone?", ada.skapi.user!.user_id).catch((e) => e);
  assert.equal(refused.code, "NOT_FOUND", "the sender is told");
  proxy.down = false;
  await waitFor(() => ada.skapi.state === "connected" && ada.skapi.user!.cid !== cid, {
    message: "fresh",
    timeout: 10_000,
  });
  await waitFor(
    () =>
      bob.seen.some((e) =>
        e.type === "notice" && e.code === "USER_JOINED" && e.name === "Ada" && e.sender_cid !== cid
      ),
    { message: "joined again", timeout: 10_000 },
  );
  // Ada's success comes once her re-join is acked, which may be after Bob hears of the join.
  await waitFor(() => successes().length > before, { message: "Ada's success", timeout: 10_000 });
  const back = successes().at(-1);
  assert.ok(
    back?.type === "success" && back.missedMessages,
    "the app is told it may have missed some",
  );
  await ada.skapi.closeRealtime();
  await bob.skapi.closeRealtime();
});

Deno.test("a resume that lands on another isolate takes the connection over, nothing lost", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const kv = await Deno.openKv(path);
  try {
    const cluster = { broadcast: false };
    await using one = await startHub({
      kv,
      isolate: "iso-one",
      cluster,
      limits: { resumeGraceMs: 10_000 },
    });
    await using two = await startHub({
      kv,
      isolate: "iso-two",
      cluster,
      limits: { resumeGraceMs: 10_000 },
    });
    await using proxy = startProxy(port(one.url));
    const ada = await client(proxy.url, "Ada");
    const bob = await client(two.url, "Bob");
    const cid = ada.skapi.user!.cid;

    proxy.down = true;
    proxy.cut();
    await waitFor(() => ada.skapi.state === "reconnecting", {
      message: "the client noticed",
      timeout: 10_000,
    });
    await bob.skapi.postRealtime("kept on iso-one", ada.skapi.user!.user_id);
    proxy.upstream = port(two.url); // she comes back through another isolate
    proxy.down = false;

    await waitFor(() => ada.seen.some((e) => e.type === "private"), {
      message: "the kept message arrived",
      timeout: 10_000,
    });
    assert.equal(ada.skapi.user!.cid, cid);
    assert.equal(one.hub.registry.get(cid), undefined, "released by iso-one");
    assert.equal(two.hub.registry.get(cid)?.group, "g", "held by iso-two, still in g");
    assert.deepEqual(churn(bob.seen, cid), []);
    await bob.skapi.postRealtime("and now", ada.skapi.user!.user_id);
    await waitFor(() => ada.seen.filter((e) => e.type === "private").length === 2, {
      message: "after",
      timeout: 10_000,
    });
    await ada.skapi.closeRealtime();
    await bob.skapi.closeRealtime();
  } finally {
    kv.close();
    await Deno.remove(path).catch(() => {});
  }
});

Deno.test("a socket that goes silent: the heartbeat suspends it, the client resumes, nothing lost", async () => {
  await using server = await startHub({ limits: { heartbeatMs: 300, resumeGraceMs: 20_000 } });
  await using proxy = startProxy(port(server.url));
  const ada = await client(proxy.url, "Ada");
  const bob = await client(server.url, "Bob");
  const cid = ada.skapi.user!.cid;
  proxy.silent = true; // open, but nothing passes: a dead NAT mapping, a frozen Wi-Fi
  await waitFor(() => server.hub.registry.get(cid)?.state === "suspended", {
    message: "the server's heartbeat suspended the silent socket",
    timeout: 10_000,
  });
  // Swallowed or kept: Bob's message must reach Ada once she is back.
  await bob.skapi.postRealtime("are you there?", ada.skapi.user!.user_id);
  await waitFor(() => ada.skapi.state === "reconnecting", {
    message: "the SDK's own watchdog noticed",
    timeout: 15_000,
  });
  proxy.silent = false;
  proxy.cut();
  await waitFor(() => ada.seen.some((e) => e.type === "private"), {
    message: "the message arrived",
    timeout: 15_000,
  });
  assert.equal(ada.skapi.user!.cid, cid, "same cid: resumed");
  assert.equal(ada.seen.filter((e) => e.type === "private").length, 1, "exactly once");
  assert.deepEqual(churn(bob.seen, cid), [], "the group saw no leave");
  await ada.skapi.closeRealtime();
  await bob.skapi.closeRealtime();
});
