import assert from "node:assert/strict";
import { signToken } from "../../lib/server/auth.ts";
import { startApp } from "../_helpers/server.ts";
import { openPeer, peerSocket } from "../server/peerjs/_peerjs.ts";

const SECRET = "test-secret-of-32-bytes-or-more-0000";

Deno.test("the /peerjs routes: ids, discovery, the switches", async (t) => {
  const [plain, custom, off] = await Promise.all([
    startApp(),
    startApp({
      env: {
        PARLEY_PEERJS_DISCOVERY: "on",
        PARLEY_PEERJS_KEY: "my-app",
        PARLEY_AUTH_SECRET: SECRET,
      },
    }),
    startApp({ env: { PARLEY_PEERJS: "off" } }),
  ]);
  await using _plain = plain;
  await using _custom = custom;
  await using _off = off;
  const ws = (app: typeof plain) => `${app.url.replace(/^http/, "ws")}/peerjs/peerjs`;

  await t.step(
    "GET /peerjs/<key>/id: a fresh id as text, readable from other origins",
    async () => {
      const res = await fetch(`${plain.url}/peerjs/peerjs/id?ts=1`, {
        headers: { origin: "https://app.example" },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
      assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
      const id = await res.text();
      assert.match(id, /^[0-9a-f-]{36}$/);
      const peer = await openPeer(ws(plain), id);
      await peer.close();
    },
  );

  await t.step(
    "GET /peerjs/<key>/peers: 401 while discovery is off (PeerJS's default)",
    async () => {
      const res = await fetch(`${plain.url}/peerjs/peerjs/peers`);
      assert.equal(res.status, 401);
      assert.match((await res.json()).message, /PARLEY_PEERJS_DISCOVERY/);
    },
  );

  await t.step("a WebSocket upgrade is required on /peerjs/peerjs", async () => {
    const res = await fetch(`${plain.url}/peerjs/peerjs?key=peerjs&id=a&token=t`);
    assert.equal(res.status, 426);
    await res.body?.cancel();
  });

  await t.step("discovery on, own key, access tokens", async () => {
    const sub = crypto.randomUUID();
    const token = await signToken(SECRET, { sub });
    const wrongKey = await peerSocket(ws(custom), { id: sub, token });
    await wrongKey.closed;
    assert.equal(wrongKey.frames[0]?.type, "INVALID-KEY", "the default key is refused here");
    const peer = await peerSocket(ws(custom), { id: sub, token, key: "my-app" });
    await peer.next((f) => f.type === "OPEN");
    assert.deepEqual(await (await fetch(`${custom.url}/peerjs/my-app/peers`)).json(), [sub]);
    const other = await fetch(`${custom.url}/peerjs/peerjs/peers`);
    assert.equal(other.status, 401, "another key lists nothing");
    await other.body?.cancel();
    const id = await fetch(`${custom.url}/peerjs/my-app/id`);
    assert.equal(id.status, 401, "with tokens the id is the token's subject");
    assert.match((await id.json()).message, /new Peer\(<the token's sub>, \{ token \}\)/);
    await peer.close();
  });

  await t.step("PARLEY_PEERJS=off: no /peerjs at all", async () => {
    for (const path of ["/peerjs/peerjs/id", "/peerjs/peerjs/peers", "/peerjs/peerjs"]) {
      const res = await fetch(`${off.url}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
  });
});
