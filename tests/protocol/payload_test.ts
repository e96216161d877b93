import assert from "node:assert/strict";
import {
  checkPayload,
  LIMITS,
  payloadBytes,
  payloadText,
  postFrameText,
} from "../../lib/protocol/mod.ts";

Deno.test("payloadText is the message's JSON, checked as checkPayload checks it", () => {
  const values: unknown[] = ["é", { a: [1, null, { b: "🎉" }] }, 0, false, null, []];
  for (const value of values) {
    assert.equal(payloadText(value), JSON.stringify(value));
    assert.equal(checkPayload(value), value);
  }
  // A value that writes as nothing is left out of the frame, as JSON.stringify leaves it.
  assert.equal(payloadText({ toJSON: () => undefined }), undefined);
  for (const bad of [undefined, () => 1, Symbol("s"), 1n]) {
    assert.throws(() => payloadText(bad), TypeError);
    assert.throws(() => checkPayload(bad), TypeError);
  }
});

Deno.test("the size limit counts UTF-8 bytes at its edge, whatever the text's length says", () => {
  const limit = LIMITS.maxPayloadBytes;
  // Two quotes and n ASCII characters, or n two-byte ones, or n four-byte pairs, around the limit.
  for (const [unit, bytes] of [["x", 1], ["é", 2], ["🎉", 4]] as const) {
    const fits = unit.repeat(Math.floor((limit - 2) / bytes));
    const over = fits + unit;
    assert.ok(payloadBytes(fits) <= limit && payloadBytes(over) > limit);
    assert.equal(payloadText(fits), JSON.stringify(fits));
    assert.throws(
      () => payloadText(over),
      (e: Error) => e instanceof RangeError && e.message.includes(`${payloadBytes(over)} bytes`),
    );
    assert.throws(() => checkPayload(over), RangeError);
  }
  let deep: unknown = 1;
  for (let i = 0; i < LIMITS.maxPayloadDepth + 1; i++) deep = [deep];
  assert.throws(() => payloadText(deep), /nest at most/);
  // A cycle is refused as too deep, before JSON.stringify could throw on it.
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.throws(() => payloadText(cycle), /nest at most/);
});

Deno.test("postFrameText writes what JSON.stringify writes for the post frame", () => {
  const messages: unknown[] = ["hi", { a: [1, { b: '🎉\n"' }] }, 0, null, {
    toJSON: () => undefined,
  }];
  for (const message of messages) {
    for (const recipient of [undefined, "lobby", 'a "quoted" room', "user-ö"]) {
      const expected = JSON.stringify({ type: "post", message, recipient, id: 12 });
      assert.equal(postFrameText(payloadText(message), recipient, 12), expected);
    }
  }
});
