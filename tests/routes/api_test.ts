import assert from "node:assert/strict";
import { RealtimeClient } from "../../lib/sdk/mod.ts";
import { startApp } from "../_helpers/server.ts";

Deno.test("the app's routes: realtime endpoint, live rooms without a socket, /sdk.js", async (t) => {
  await using app = await startApp();

  await t.step(
    "a test app answers no ICE servers: no test contacts a public STUN server",
    async () => {
      assert.deepEqual(await fetch(`${app.url}/api/ice`).then((r) => r.json()), { iceServers: [] });
    },
  );

  await t.step("GET /api/realtime without an upgrade is a typed 426", async () => {
    const response = await fetch(`${app.url}/api/realtime`);
    assert.equal(response.status, 426);
    assert.equal((await response.json()).code, "INVALID_REQUEST");
  });

  await t.step("/api/rooms lists the live rooms and their sizes", async () => {
    const clients = [
      new RealtimeClient({ url: app.wsUrl }),
      new RealtimeClient({ url: app.wsUrl }),
    ];
    await Promise.all(clients.map((c) => c.connectRealtime()));
    await clients[0].joinRealtime({ group: "alpha" });
    await clients[1].joinRealtime({ group: "alpha" });
    const rooms = await (await fetch(`${app.url}/api/rooms`)).json();
    assert.deepEqual(rooms, {
      list: [{ group: "alpha", number_of_users: 2 }],
      startKey: "end",
      endOfList: true,
    });
    // Who is in a room, also without a socket: the SDK's getRealtimeUsers before connecting.
    await clients[1].joinRealtime({ group: "Another Group Name" });
    const offline = new RealtimeClient({ url: app.wsUrl });
    const users = await offline.getRealtimeUsers({ group: "Another Group Name" });
    assert.deepEqual(users.list.map((u) => u.cid), [clients[1].user!.cid]);
    const raw = await fetch(`${app.url}/api/rooms/Another%20Group%20Name`);
    assert.equal((await raw.json()).list.length, 1);
    assert.deepEqual((await offline.getRealtimeGroups({ value: "alpha" })).list, [
      { group: "alpha", number_of_users: 1 },
    ]);
    const bad = await fetch(`${app.url}/api/rooms?limit=5000`);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, "INVALID_PARAMETER");
    await Promise.all(clients.map((c) => c.closeRealtime()));
  });

  await t.step("/sdk.js is the SDK as a JavaScript module", async () => {
    const response = await fetch(`${app.url}/sdk.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /javascript/);
    const source = await response.text();
    assert.match(source, /RealtimeClient/);
    assert.ok(source.length < 60_000, `small: ${source.length} bytes`);
  });
});
