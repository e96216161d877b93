import assert from "node:assert/strict";
import {
  cleanDisplayName,
  errorCodeOf,
  errorRefOf,
  FrameTooLargeError,
  LIMITS,
  parseClientFrame,
  parseDisplayName,
  parseRecipient,
  parseServerFrame,
  requestIdOf,
} from "../../lib/protocol/mod.ts";

const uuid = "0b6c5f1e-3f7a-4b8e-9c2d-1a2b3c4d5e6f";
const cid = "cid:AAAAAAAAAAAAAAAAAAAAAAAA";

Deno.test("parseClientFrame accepts every well-formed request", () => {
  const frames = [
    { type: "join", id: 1, group: "team-1.a_b" },
    { type: "join", id: 2, group: null },
    { type: "post", id: 3, message: { text: "100% sure" } },
    { type: "post", id: 4, message: "hi" },
    { type: "users", id: 5, group: "lobby", limit: 1000, startKey: "cid:x", ascending: false },
    { type: "groups", id: 6, searchFor: "number_of_users", value: 2, condition: ">=" },
    { type: "signal", id: 7, to: cid, signal: { kind: "hangup", call: "c1", reason: "bye" } },
    { type: "rename", id: 8, name: "Ada" },
    { type: "pong" },
    { type: "bye" },
  ];
  for (const frame of frames) {
    assert.deepEqual(parseClientFrame(JSON.stringify(frame)), frame);
  }
});

Deno.test("parseClientFrame types a post's recipient, lowercasing a user_id", () => {
  const upper = uuid.toUpperCase();
  const toUser = parseClientFrame({ type: "post", id: 1, message: 1, recipient: upper });
  assert.deepEqual(toUser, { type: "post", id: 1, message: 1, recipient: { user_id: uuid } });
  const toGroup = parseClientFrame({ type: "post", id: 2, message: 1, recipient: "Lobby" });
  assert.deepEqual(toGroup, { type: "post", id: 2, message: 1, recipient: { group: "Lobby" } });
  for (const bad of ["", "a\u0007b", "x".repeat(65), 5]) {
    assert.throws(
      () => parseClientFrame({ type: "post", id: 3, message: 1, recipient: bad }),
      (e: Error) => e instanceof TypeError && /'recipient' must be a user_id/.test(e.message),
    );
    assert.throws(() => parseRecipient(bad), TypeError);
  }
  assert.deepEqual(parseRecipient(upper), { user_id: uuid });
});

Deno.test("one name rule: renames are cleaned as names from tokens and URLs are", () => {
  assert.equal(cleanDisplayName("  Ada\u202e\u200b "), "Ada");
  assert.equal(cleanDisplayName(null), "");
  assert.equal(cleanDisplayName("x".repeat(80)), "x".repeat(64));
  const renamed = parseClientFrame({ type: "rename", id: 1, name: " Ada\u202e " });
  assert.deepEqual(renamed, { type: "rename", id: 1, name: "Ada" });
  assert.equal(parseDisplayName("\tBob "), "Bob");
  for (const bad of ["", "   ", "\u202e\u200b", "x".repeat(65), 7]) {
    assert.throws(
      () => parseClientFrame({ type: "rename", id: 2, name: bad }),
      (e: Error) => e instanceof TypeError && /'name' must be a non-empty string/.test(e.message),
    );
  }
});

Deno.test("the frame size is checked in the parse, for text and binary frames alike", () => {
  const limits = { ...LIMITS, maxFrameBytes: 100 };
  const text = JSON.stringify({ type: "post", id: 1, message: "é".repeat(60) });
  assert.throws(() => parseClientFrame(text, limits), FrameTooLargeError);
  assert.throws(() => parseClientFrame(new ArrayBuffer(101), limits), FrameTooLargeError);
  assert.throws(() => parseClientFrame(new Blob(["x".repeat(101)]), limits), FrameTooLargeError);
  assert.ok(new FrameTooLargeError("x") instanceof RangeError, "a size limit, as the others");
  assert.throws(
    () => parseClientFrame(new ArrayBuffer(10), limits),
    (e: Error) => e instanceof SyntaxError && /binary frames/.test(e.message),
  );
});

Deno.test("parseClientFrame turns an empty group into a leave", () => {
  assert.deepEqual(parseClientFrame({ type: "join", id: 1, group: "" }), {
    type: "join",
    id: 1,
    group: null,
  });
});

Deno.test("parseClientFrame names the field, its rule and the value", () => {
  const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
    ["{not json", SyntaxError, /must be JSON text/],
    ["[1,2]", SyntaxError, /'frame' must be a JSON object: current value is an array/],
    [
      '{"type":"nope","id":1}',
      SyntaxError,
      /'type' must be one of join, post.*current value is "nope"/,
    ],
    [{ type: "join", id: "1", group: "a" }, TypeError, /'id' must be a non-negative integer/],
    [{ type: "join", id: 1, group: "bad\nname" }, TypeError, /'group' must be 1–64 characters/],
    [{ type: "join", id: 1, group: "x".repeat(65) }, TypeError, /'group' must be 1–64/],
    [{ type: "post", id: 1 }, TypeError, /'message' is required/],
    [{ type: "post", id: 1, message: "x", sender: uuid }, TypeError, /'sender' is not a field/],
    [
      { type: "post", id: 1, message: "x", sender_cid: cid },
      TypeError,
      /'sender_cid' is not a field/,
    ],
    [
      { type: "users", id: 1, group: "a", limit: 1001 },
      TypeError,
      /'limit' must be an integer from 1 to 1000/,
    ],
    [{ type: "groups", id: 1, condition: "~" }, TypeError, /'condition' must be one of/],
    [
      { type: "groups", id: 1, searchFor: "number_of_users", value: "2" },
      TypeError,
      /'value' must be a number/,
    ],
    [
      { type: "signal", id: 1, to: "someone", signal: { kind: "hangup", call: "c" } },
      TypeError,
      /'to' must be a cid/,
    ],
    [
      { type: "signal", id: 1, to: cid, signal: { kind: "boom", call: "c" } },
      TypeError,
      /'signal.kind' must be one of/,
    ],
    [
      { type: "signal", id: 1, to: cid, signal: { kind: "hangup", call: "a b" } },
      TypeError,
      /'signal.call'/,
    ],
    [
      { type: "signal", id: 1, to: cid, signal: { kind: "call", call: "c", media: { audio: 1 } } },
      TypeError,
      /'signal.media'/,
    ],
    [
      {
        type: "signal",
        id: 1,
        to: cid,
        signal: { kind: "description", call: "c", description: { type: "x" } },
      },
      TypeError,
      /'signal.description.type'/,
    ],
    [
      {
        type: "signal",
        id: 1,
        to: cid,
        signal: { kind: "candidate", call: "c", candidate: { candidate: 5 } },
      },
      TypeError,
      /'signal.candidate.candidate'/,
    ],
    [{ type: "pong", extra: 1 }, TypeError, /'extra' is not a field/],
    [
      { type: "signal", id: 1, to: cid, signal: { kind: "accept", call: "c", type: "x" } },
      TypeError,
      /'signal.type' is not a field/,
    ],
    [
      {
        type: "signal",
        id: 1,
        to: cid,
        signal: { kind: "candidate", call: "c", candidate: { candidate: "x", kind: "y" } },
      },
      TypeError,
      /'signal.candidate.kind' is not a field/,
    ],
  ];
  for (const [raw, ErrorType, message] of cases) {
    assert.throws(() => parseClientFrame(raw), (error: Error) => {
      assert.ok(error instanceof ErrorType, `${JSON.stringify(raw)} threw ${error.name}`);
      assert.match(error.message, message);
      assert.match(error.message, /^Cannot /);
      return true;
    });
  }
});

Deno.test("parseClientFrame enforces the size and depth limits", () => {
  const big = JSON.stringify({ type: "post", id: 1, message: "x".repeat(LIMITS.maxFrameBytes) });
  assert.throws(() => parseClientFrame(big), RangeError);
  const payload = { type: "post", id: 1, message: "é".repeat(LIMITS.maxPayloadBytes / 2) };
  assert.throws(() => parseClientFrame(JSON.stringify(payload)), /must be at most 32768 bytes/);
  let deep: unknown = 1;
  for (let i = 0; i < LIMITS.maxPayloadDepth + 1; i++) deep = [deep];
  assert.throws(() => parseClientFrame({ type: "post", id: 1, message: deep }), /nest at most/);
  const sdp = "v=0\r\n".repeat(LIMITS.maxSdpBytes / 4);
  const description = { kind: "description", call: "c", description: { type: "offer", sdp } };
  assert.throws(
    () => parseClientFrame({ type: "signal", id: 1, to: cid, signal: description }),
    RangeError,
  );
});

Deno.test("a hostile nesting depth fails cleanly instead of overflowing the stack", () => {
  const text = `{"type":"post","id":1,"message":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
  assert.throws(() => parseClientFrame(text), (error: Error) => error instanceof RangeError);
});

Deno.test("errorCodeOf maps validator errors to wire codes", () => {
  assert.equal(errorCodeOf(new RangeError("x")), "PAYLOAD_TOO_LARGE");
  assert.equal(errorCodeOf(new TypeError("x")), "INVALID_PARAMETER");
  assert.equal(errorCodeOf(new SyntaxError("x")), "INVALID_REQUEST");
});

Deno.test("requestIdOf finds a usable id in a frame that failed validation", () => {
  assert.equal(requestIdOf('{"type":"nope","id":7}'), 7);
  assert.equal(requestIdOf('{"id":-1}'), undefined);
  assert.equal(requestIdOf("not json"), undefined);
  assert.equal(requestIdOf({ id: 3 }), 3);
});

Deno.test("protocol v3: a signal may go without id (unacked); no other request may", () => {
  const candidate = { kind: "candidate", call: "c1", candidate: { candidate: "candidate:1" } };
  const unacked = { type: "signal", to: cid, signal: candidate };
  assert.deepEqual(parseClientFrame(JSON.stringify(unacked)), unacked);
  for (const frame of [{ type: "join", group: "g" }, { type: "post", message: 1 }]) {
    assert.throws(() => parseClientFrame(frame), /'id' must be/);
  }
  assert.throws(() => parseClientFrame({ ...unacked, id: "7" }), /'id' must be/);
  // The rest of the gate is the same as with an id.
  assert.throws(
    () => parseClientFrame({ type: "signal", to: "nobody", signal: candidate }),
    /'to' must be a cid/,
  );
});

Deno.test("errorRefOf names a request by id, an unacked signal by its recipient, call and kind", () => {
  const signal = { kind: "candidate", call: "c1", candidate: null };
  assert.deepEqual(errorRefOf('{"type":"join","id":7}'), { id: 7 });
  assert.deepEqual(errorRefOf({ type: "signal", id: 8, to: cid, signal }), { id: 8 });
  assert.deepEqual(errorRefOf(JSON.stringify({ type: "signal", to: cid, signal })), {
    signal: { to: cid, call: "c1", kind: "candidate" },
  });
  // What cannot name a signal names nothing (the error then reaches the app as a plain error).
  for (
    const raw of [
      { type: "signal", to: cid, signal: { ...signal, kind: "nope" } },
      { type: "signal", to: cid, signal: { ...signal, call: 5 } },
      { type: "signal", to: 5, signal },
      { type: "signal", to: "x".repeat(100), signal },
      { type: "signal", to: cid },
      { type: "post", message: 1 },
      { type: "signal", id: "x", to: cid, signal },
      "not json",
    ]
  ) assert.deepEqual(errorRefOf(raw), {}, JSON.stringify(raw));
});

Deno.test("parseServerFrame refuses frames that are not Parley's", () => {
  assert.equal(parseServerFrame('{"type":"ping"}').type, "ping");
  assert.throws(() => parseServerFrame('{"type":"hello"}'), SyntaxError);
  assert.throws(() => parseServerFrame("[]"), SyntaxError);
});

Deno.test("the hello carries credentials only; the auth request a token", () => {
  const hello = {
    type: "hello",
    token: "t",
    proof: "p",
    resume: { cid, session: "s", received: 3 },
  };
  assert.deepEqual(parseClientFrame(JSON.stringify(hello)), hello);
  assert.deepEqual(parseClientFrame('{"type":"hello"}'), { type: "hello" });
  for (
    const [frame, pattern] of [
      [{ type: "hello", user_id: crypto.randomUUID() }, /'user_id' is not a field/],
      [{ type: "hello", resume: { cid, session: "s" } }, /'resume.received'/],
      [{ type: "hello", resume: { cid, session: "", received: 0 } }, /'resume.session'/],
      [
        { type: "hello", resume: { cid, session: "s", received: 0, isolate: "x" } },
        /resume.isolate/,
      ],
      [{ type: "hello", token: "x".repeat(5000) }, /'token' must be at most 4096/],
      [{ type: "auth", id: 1 }, /'token' must be a non-empty string/],
    ] as const
  ) {
    assert.throws(() => parseClientFrame(JSON.stringify(frame)), pattern);
  }
  assert.deepEqual(parseClientFrame('{"type":"auth","id":1,"token":"t"}'), {
    type: "auth",
    id: 1,
    token: "t",
  });
});
