import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { iceServers, turnCredential } from "../../lib/server/ice.ts";
import { resolveIce } from "../../lib/sdk/rtc/ice.ts";

Deno.test("TURN REST credentials: <expiry>:<user id>, base64 HMAC-SHA1, urls only", async () => {
  const user = crypto.randomUUID();
  const answer = await iceServers(
    { TURN_URLS: "turn:t:3478?transport=udp,turns:t:5349", TURN_SECRET: "s3cret" },
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
    await iceServers({ TURN_URLS: "turn:t" }),
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
