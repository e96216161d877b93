import assert from "node:assert/strict";
import {
  isPeerjsId,
  parsePeerjsFrame,
  PEERJS_MESSAGES,
  peerjsRefusal,
} from "../../lib/protocol/mod.ts";

Deno.test("parsePeerjsFrame keeps type, dst and payload of what PeerJS clients send", () => {
  assert.deepEqual(parsePeerjsFrame('{"type":"HEARTBEAT"}'), { type: "HEARTBEAT" });
  const offer = { type: "OFFER", dst: "bob", payload: { sdp: "v=0", type: "data" } };
  assert.deepEqual(parsePeerjsFrame(JSON.stringify({ ...offer, src: "forged", x: 1 })), offer);
  assert.deepEqual(parsePeerjsFrame('{"type":"CANDIDATE","dst":"b"}'), {
    type: "CANDIDATE",
    dst: "b",
  });
  assert.deepEqual(parsePeerjsFrame('{"type":"LEAVE"}'), { type: "LEAVE", dst: undefined });
  for (const type of ["ANSWER", "EXPIRE", "LEAVE"]) {
    assert.equal(parsePeerjsFrame(JSON.stringify({ type, dst: "a b" }))?.type, type);
  }
});

Deno.test("parsePeerjsFrame ignores unknown types and refuses bad frames, naming the field", () => {
  assert.equal(parsePeerjsFrame('{"type":"OPEN"}'), null);
  assert.equal(parsePeerjsFrame('{"type":"SOMETHING-NEW","dst":1}'), null);
  const refused = (text: string, type: ErrorConstructor, pattern: RegExp) =>
    assert.throws(() => parsePeerjsFrame(text), (e: Error) => {
      assert.ok(e instanceof type, `${text}: ${e.name}`);
      assert.match(e.message, pattern);
      return true;
    });
  refused("{nope", SyntaxError, /Cannot accept frame as 'frame' must be JSON/);
  refused("[1]", SyntaxError, /'type' must be a string/);
  refused('{"type":1}', SyntaxError, /'type' must be a string/);
  refused('{"type":"OFFER"}', TypeError, /'dst' must be a PeerJS id: current value is undefined/);
  refused('{"type":"OFFER","dst":"-x"}', TypeError, /'dst' must be a PeerJS id/);
  refused('{"type":"OFFER","dst":7}', TypeError, /'dst'/);
  const deep = `{"type":"OFFER","dst":"b","payload":${"[".repeat(33)}${"]".repeat(33)}}`;
  refused(deep, RangeError, /'payload' must nest at most 32 levels/);
});

Deno.test("PeerJS ids follow the client's rule, at most 128 characters", () => {
  for (const id of ["alice", "a-b_c d", "0b6c5f1e-3f7a-4b8e-9c2d-1a2b3c4d5e6f", "x".repeat(128)]) {
    assert.ok(isPeerjsId(id), id);
  }
  for (const id of ["", "-a", "a-", "a--b", "a\tb", "é", "x".repeat(129), 5, null]) {
    assert.ok(!isPeerjsId(id), String(id));
  }
});

Deno.test("peerjsRefusal speaks peer 1.0.x's words", () => {
  assert.equal(
    peerjsRefusal("ERROR", PEERJS_MESSAGES.invalidParameters),
    '{"type":"ERROR","payload":{"msg":"No id, token, or key supplied to websocket server"}}',
  );
  assert.equal(
    peerjsRefusal("ID-TAKEN", PEERJS_MESSAGES.idTaken),
    '{"type":"ID-TAKEN","payload":{"msg":"ID is taken"}}',
  );
});
