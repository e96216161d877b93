import assert from "node:assert/strict";
import { Admission } from "../../../lib/server/admission.ts";
import { signToken } from "../../../lib/server/auth.ts";
import { admitPeer } from "../../../lib/server/peerjs/admit.ts";
import { TEST_SECURITY } from "../../_helpers/hub.ts";

const SECRET = "test-secret-of-32-bytes-or-more-0000";

function upgrade(query: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://127.0.0.1/peerjs/peerjs?${query}`, {
    headers: { upgrade: "websocket", ...headers },
  });
}

Deno.test("admitPeer: PeerJS's checks first, in its order and words", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const admission = new Admission(TEST_SECURITY, kv);
    const judge = async (query: string) =>
      (await admitPeer(upgrade(query), undefined, "peerjs", admission)).refusal;
    assert.match((await judge("key=peerjs&id=a"))!, /No id, token, or key supplied/);
    assert.match((await judge("key=nope&id=a&token=t"))!, /"INVALID-KEY"/);
    assert.match((await judge("key=peerjs&id=a%09b&token=t"))!, /Invalid id/);
    assert.match((await judge(`key=peerjs&id=a&token=${"t".repeat(5000)}`))!, /Invalid token/);
    const ok = await admitPeer(upgrade("key=peerjs&id=a&token=t"), undefined, "peerjs", admission);
    assert.deepEqual([ok.id, ok.token, ok.refusal], ["a", "t", null]);
    ok.release();
  } finally {
    kv.close();
  }
});

Deno.test("admitPeer: then the hub's admission, and a token's subject must be the id", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const admission = new Admission(
      { ...TEST_SECURITY, authSecret: SECRET, allowedOrigins: ["https://app.example"] },
      kv,
    );
    const sub = crypto.randomUUID();
    const token = await signToken(SECRET, { sub });
    const judge = async (id: string, token: string, origin = "https://app.example") =>
      (await admitPeer(
        upgrade(`key=peerjs&id=${id}&token=${token}`, { origin }),
        undefined,
        "peerjs",
        admission,
      ))
        .refusal;
    assert.equal(await judge(sub, token), null);
    assert.match(
      (await judge("someone-else", token))!,
      /the id must be the access token's subject/,
    );
    assert.match((await judge(sub, "garbage"))!, /rejected/);
    assert.match((await judge(sub, token, "https://evil.example"))!, /ALLOWED_ORIGINS/);
    assert.equal(
      admission.connections.count("unknown"),
      1,
      "only the admitted socket holds a slot",
    );
  } finally {
    kv.close();
  }
});
