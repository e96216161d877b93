import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { DEFAULT_STUN_URLS, iceServers, turnCredential } from "../../lib/server/ice.ts";
import { resolveIce } from "../../lib/sdk/rtc/ice.ts";

Deno.test("TURN REST credentials: <expiry>:<user id>, base64 HMAC-SHA1, urls only", async () => {
  const user = crypto.randomUUID();
  const answer = await iceServers(
    {
      STUN_URLS: "none",
      TURN_URLS: "turn:t:3478?transport=udp,turns:t:5349",
      TURN_SECRET: "s3cret",
    },
    1_700_000_000_000,
    user,
  );
  const [turn] = answer.iceServers;
  assert.deepEqual(turn.urls, ["turn:t:3478?transport=udp", "turns:t:5349"]);
  assert.equal(turn.username, `${1_700_000_000 + 3600}:${user}`);
  const expected = createHmac("sha1", "s3cret").update(turn.username!).digest("base64");
  assert.equal(turn.credential, expected);
  assert.equal(await turnCredential("s3cret", turn.username!), expected);
  assert.ok(!("url" in turn));
  assert.deepEqual(
    await iceServers({ STUN_URLS: "none", TURN_URLS: "turn:t" }),
    { iceServers: [] },
    "no secret, no TURN",
  );
  await assert.rejects(
    iceServers({ TURN_URLS: "turn:t", TURN_SECRET: "s", TURN_TTL: "-5" }),
    RangeError,
  );
  await assert.rejects(
    iceServers({ TURN_URLS: "turn:t", TURN_SECRET: "s", TURN_TTL: "1h" }),
    RangeError,
  );
});

Deno.test("the SDK's default /api/ice fetch sends its token as a bearer token", async () => {
  const seen: (string | null)[] = [];
  const fake = ((_url: string, init: RequestInit) => {
    seen.push(new Headers(init.headers).get("authorization"));
    return Promise.resolve(Response.json({ iceServers: [] }));
  }) as typeof fetch;
  await resolveIce(undefined, "ws://h/api/realtime", fake, 1_000, "tok.en.x");
  await resolveIce(undefined, "ws://h/api/realtime", fake, 1_000);
  assert.deepEqual(seen, ["Bearer tok.en.x", null]);
});

Deno.test("STUN: public servers when unset or empty, none with STUN_URLS=none, else the list", async () => {
  const publicStun = { iceServers: [{ urls: [...DEFAULT_STUN_URLS] }] };
  assert.deepEqual(await iceServers({}), publicStun);
  assert.deepEqual(await iceServers({ STUN_URLS: " , " }), publicStun);
  assert.deepEqual(DEFAULT_STUN_URLS, [
    "stun:stun.l.google.com:19302",
    "stun:stun.cloudflare.com:3478",
  ]);
  for (const off of ["none", " NONE "]) {
    assert.deepEqual(await iceServers({ STUN_URLS: off }), { iceServers: [] });
  }
  const withTurn = await iceServers({ STUN_URLS: "none", TURN_URLS: "turn:t", TURN_SECRET: "s" });
  assert.deepEqual(withTurn.iceServers.map((s) => s.urls), [["turn:t"]], "TURN stays on");
  assert.deepEqual(await iceServers({ STUN_URLS: "stun:own:3478" }), {
    iceServers: [{ urls: ["stun:own:3478"] }],
  });
});
