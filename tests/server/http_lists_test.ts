import assert from "node:assert/strict";
import { signToken } from "../../lib/server/auth.ts";
import { listRooms, listRoomUsers } from "../../lib/server/mod.ts";
import { RealtimeClient } from "../../lib/sdk/mod.ts";
import { startHub } from "../_helpers/hub.ts";

Deno.test("GET /api/rooms takes Skapi's search; bad input is a 400 naming the field", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  await client.connectRealtime();
  await client.joinRealtime({ group: "Hello World" });
  const get = (query: string) => listRooms(server.hub, new Request(`http://h/api/rooms${query}`));
  const rows = async (query: string) => (await (await get(query)).json()).list;
  assert.deepEqual(await rows(""), [{ group: "Hello World", number_of_users: 1 }]);
  assert.deepEqual(await rows("?searchFor=group&value=Hello"), []);
  assert.deepEqual(await rows("?searchFor=group&value=Hello&condition=%3E%3D"), [
    { group: "Hello World", number_of_users: 1 },
  ]);
  assert.deepEqual(await rows("?prefix=Hello"), [{ group: "Hello World", number_of_users: 1 }]);
  assert.deepEqual(await rows("?searchFor=number_of_users&value=1"), [
    { group: "Hello World", number_of_users: 1 },
  ]);
  for (const query of ["?limit=5000", "?condition=~", "?searchFor=number_of_users&value=x"]) {
    const refused = await get(query);
    assert.equal(refused.status, 400, query);
    const body = await refused.json();
    assert.equal(body.code, "INVALID_PARAMETER", query);
    assert.match(body.message, /^Cannot /);
  }
  const users = await listRoomUsers(server.hub, new Request("http://h/"), "Hello World");
  assert.deepEqual((await users.json()).list.map((u: { cid: string }) => u.cid), [
    client.user!.cid,
  ]);
  await client.closeRealtime();
});

Deno.test("GET /api/rooms/<group> with tokens on: a bearer token that grants the room", async () => {
  const secret = "http-lists-secret";
  await using server = await startHub({ security: { authSecret: secret } });
  const list = (token?: string) =>
    listRoomUsers(
      server.hub,
      new Request("http://h/", { headers: token ? { authorization: `Bearer ${token}` } : {} }),
      "team-a",
    );
  assert.equal((await list()).status, 401);
  const other = await signToken(secret, { sub: crypto.randomUUID(), rooms: ["team-b"] });
  assert.equal((await list(other)).status, 403);
  const granted = await signToken(secret, { sub: crypto.randomUUID(), rooms: ["team-*"] });
  const ok = await list(granted);
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).list, []);
});
