import assert from "node:assert/strict";
import {
  noticeFrame,
  packNotices,
  parseServerFrame,
  unpackNotices,
} from "../../lib/protocol/mod.ts";

const who = (n: number) => ({
  sender: crypto.randomUUID(),
  sender_cid: `cid:${String(n).padStart(22, "x")}`,
  name: `Guest ${n}`,
});

Deno.test("notices pack into runs of one code and group and unpack in order", () => {
  const notices = [
    noticeFrame("USER_JOINED", "g", who(1)),
    noticeFrame("USER_JOINED", "g", who(2)),
    noticeFrame("USER_LEFT", "g", who(1)),
    noticeFrame("USER_JOINED", "h", who(1)),
    noticeFrame("USER_JOINED", "g", who(3)),
  ];
  const packed = packNotices(notices);
  assert.equal(packed.runs.length, 4);
  assert.deepEqual(packed.runs[0].who.length, 2);
  assert.deepEqual(unpackNotices(packed), notices);
  const text = JSON.stringify(packed);
  assert.deepEqual(unpackNotices(parseServerFrame(text) as typeof packed), notices);
  const bytes = (list: object[]) => list.reduce((n, f) => n + JSON.stringify(f).length, 0);
  assert.ok(text.length < bytes(notices), "fewer bytes than one by one");
  // A join storm's run: about half the bytes.
  const storm = Array.from({ length: 30 }, (_, n) => noticeFrame("USER_JOINED", "room", who(n)));
  const stormBytes = JSON.stringify(packNotices(storm)).length;
  assert.ok(stormBytes < 0.6 * bytes(storm), `${stormBytes} bytes against ${bytes(storm)}`);
});

Deno.test("a notice's JSON begins with its type (the server tells notices by it)", () => {
  assert.ok(
    JSON.stringify(noticeFrame("USER_RENAMED", "g", who(1))).startsWith('{"type":"notice",'),
  );
});

Deno.test("a notices frame without runs is refused", () => {
  assert.throws(() => parseServerFrame('{"type":"notices"}'), SyntaxError);
});
