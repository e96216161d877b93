import assert from "node:assert/strict";
import {
  exceedsBytes,
  isCid,
  isGroupName,
  isUserId,
  noticeText,
  payloadBytes,
} from "../../lib/protocol/mod.ts";

Deno.test("group names: any 1–64 characters but control characters, as in Skapi", () => {
  const goods = ["a", "Team-1", "x.y_z", "Another Group Name", " ", "a/b", "é", "a".repeat(64)];
  for (const good of goods) assert.ok(isGroupName(good), good);
  for (const bad of ["", "a\tb", "a\nb", "\u0000", "\u007f", "a".repeat(65), null, 5]) {
    assert.ok(!isGroupName(bad), String(bad));
  }
});

Deno.test("user_ids are UUIDs and cids carry at least 128 bits", () => {
  assert.ok(isUserId(crypto.randomUUID()));
  assert.ok(!isUserId("lobby"));
  assert.ok(isCid("cid:" + "A".repeat(22)));
  assert.ok(!isCid("cid:" + "A".repeat(21)));
  assert.ok(!isCid("A".repeat(26)));
});

Deno.test("payload sizes count UTF-8 bytes of the JSON text", () => {
  assert.equal(payloadBytes("é"), 4);
  assert.equal(payloadBytes({ a: 1 }), 7);
  assert.ok(exceedsBytes("ééé", 5));
  assert.ok(!exceedsBytes("abc", 3));
  assert.ok(exceedsBytes("abcd", 3));
});

Deno.test("notice texts are Skapi's", () => {
  assert.equal(noticeText("USER_JOINED", "u1"), 'User "u1" has joined the message group.');
  assert.equal(noticeText("USER_LEFT", "u1"), 'User "u1" has left the message group.');
  assert.equal(noticeText("USER_DISCONNECTED", "u1"), 'User "u1" has been disconnected.');
});
