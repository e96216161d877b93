import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("notices the server coalesces (protocol v2) reach the app one by one, as v1 sends them", async () => {
  await using server = await startHub({ limits: { rateLimit: 10_000, rateBurst: 10_000 } });
  const events: RealtimeCallbackEvent[] = [];
  const sdk = new RealtimeClient({ url: server.url });
  await sdk.connectRealtime((event) => events.push(event));
  await sdk.joinRealtime({ group: "g" });
  const v1 = await rawClient(server.url);
  await v1.request({ type: "join", group: "g" });
  const crowd = await Promise.all(Array.from({ length: 20 }, () => rawClient(server.url)));
  await Promise.all(crowd.map((c) => c.request({ type: "join", group: "g" })));
  const sdkJoins = () =>
    events.flatMap((e) => e.type === "notice" && e.code === "USER_JOINED" ? [e.sender_cid] : []);
  const rawJoins = () =>
    v1.frames.flatMap((f) => f.type === "notice" && f.code === "USER_JOINED" ? [f.sender_cid] : []);
  await waitFor(() => sdkJoins().length === 22 && rawJoins().length === 21);
  assert.deepEqual(sdkJoins().slice(1), rawJoins(), "the same notices, in the same order");
  const posted = await sdk.postRealtime("after the storm");
  assert.equal(posted.type, "success");
  await waitFor(() => events.some((e) => e.type === "message"));
  for (const client of [v1, ...crowd]) await client.close();
  sdk.closeRealtime();
});
