// Over 300 lines: the hostile-client catalogue that the fuzz and bad-input tests share.
/**
 * Hostile input for the fuzz and flood tests: a seeded PRNG, and frames that
 * each carry what the server must answer (a typed error with the request's
 * id when it had a usable one, an ack for the few legitimate actions, or a
 * 1009 close). Every expectation is stated here, from the protocol's
 * documented rules, independently of the server's validator: a validator
 * that let one of these through would be caught, not agreed with.
 *
 * The randomness it draws on is `_random.ts`'s.
 *
 * @module
 */
import {
  CLIENT_FRAME_TYPES,
  type ErrorCode,
  type Json,
  LIMITS,
  SERVER_FRAME_TYPES,
} from "../../lib/protocol/mod.ts";
import { deepText, ODD_NUMBERS, randomJson, randomString, type Rng } from "./_random.ts";

// --- what the server must answer ---

/** What a frame must get back. */
export type Expect =
  /** A typed error; `id` only when the frame had a usable one. */
  | { kind: "error"; code: ErrorCode; id?: number }
  /** An ack; `check` judges its result. */
  | { kind: "ack"; id: number; check: (result: unknown) => string | null }
  /** Nothing at all (a valid pong). */
  | { kind: "silent" }
  /** The socket closes with this code (a frame over the size limit). */
  | { kind: "close"; code: number };

/** One frame to send and its expected answer. */
export interface Hostile {
  /** Which generator made it, for the tallies and failure messages. */
  label: string;
  data: string | Uint8Array;
  expect: Expect;
  /** A legitimate action: what it does for others (see {@linkcode Effect}). */
  effect?: Effect;
}

/** What a legitimate action of an attacker makes others receive. */
export type Effect =
  | { kind: "join"; group: string | null }
  | { kind: "rename"; name: string }
  | { kind: "private"; to: number; message: Json }
  | { kind: "signal"; to: number; signal: Record<string, Json> };

/** A well-behaved client an attacker may aim at. */
export interface Victim {
  cid: string;
  user_id: string;
}

/** What a generator knows of the attacker it writes for. */
export interface Scene {
  /** The group the attacker is in (as far as its acknowledged joins go). */
  group: string | null;
  /** Good groups (well-behaved clients are there) and others to wander to. */
  groups: readonly string[];
  victims: readonly Victim[];
  /** A fresh usable request id: unique on this connection. */
  nextId(): number;
  /** Whether legitimate actions (acked, delivered to victims) may be made. */
  legit: boolean;
}

/**
 * The id the server must echo: the frame is JSON, a plain object, and its
 * `id` a non-negative safe integer. Written here from the protocol's rule,
 * not borrowed from the server.
 */
export function usableId(text: string): number | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const id = (value as Record<string, unknown>).id;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

function error(label: string, text: string, code: ErrorCode): Hostile {
  return { label, data: text, expect: { kind: "error", code, id: usableId(text) } };
}

// --- valid templates ---

const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function token(rng: Rng, min: number, max: number): string {
  let out = "";
  for (let i = rng.range(min, max); i > 0; i--) out += TOKEN_CHARS[rng.int(64)];
  return out;
}

/** A well-formed cid nobody holds. */
export function strayCid(rng: Rng): string {
  return "cid:" + token(rng, 22, 40);
}

/** A valid RTC signal of a random kind. */
export function validSignal(rng: Rng): Record<string, Json> {
  const call = token(rng, 1, 64);
  switch (rng.int(6)) {
    case 0: {
      const signal: Record<string, Json> = { kind: "call", call };
      if (rng.chance(0.5)) signal.media = { audio: rng.chance(0.5), video: rng.chance(0.5) };
      if (rng.chance(0.5)) {
        signal.channels = [{ label: randomString(rng, 20), id: rng.int(1024), ordered: true }];
      }
      return signal;
    }
    case 1:
      return { kind: "accept", call };
    case 2:
      return rng.chance(0.5)
        ? { kind: "reject", call }
        : { kind: "reject", call, reason: randomString(rng, 256) };
    case 3:
      return rng.chance(0.5)
        ? { kind: "hangup", call }
        : { kind: "hangup", call, reason: randomString(rng, 256) };
    case 4:
      return {
        kind: "description",
        call,
        description: rng.chance(0.8)
          ? {
            type: rng.pick(["offer", "answer", "pranswer"]),
            sdp: "v=0\r\n" + randomString(rng, 200),
          }
          : { type: "rollback" },
      };
    default:
      return {
        kind: "candidate",
        call,
        candidate: rng.chance(0.2) ? null : {
          candidate: "candidate:1 1 udp 2130706431 127.0.0.1 " + rng.int(65536) + " typ host",
          sdpMid: rng.chance(0.5) ? "0" : null,
          sdpMLineIndex: rng.chance(0.5) ? rng.int(1024) : null,
        },
      };
  }
}

/** Group names the protocol refuses ("" and null mean "leave" in a join, so not here). */
function badGroupName(rng: Rng): Json {
  return rng.pick<() => Json>([
    () => "grp\n",
    () => "tab\there",
    () => "\u007f",
    () => "x".repeat(65),
    () => "x".repeat(rng.range(66, 40_000)),
    () => "lobby\u0000",
    () => 42,
    () => true,
    () => [],
    () => ["alpha"],
    () => ({ group: "alpha" }),
    () => randomString(rng, 30) + "\u0001",
  ])();
}

// --- the generators ---

type Frame = Record<string, Json>;

/** A request that passes every check, for the mutators to break one field of. */
function template(rng: Rng, scene: Scene, type: string, id: number): Frame {
  const victim = rng.pick(scene.victims);
  switch (type) {
    case "join":
      return { type, id, group: rng.pick(scene.groups) };
    case "post":
      return { type, id, message: randomJson(rng, 3) };
    case "users":
      return { type, id, group: rng.pick(scene.groups) };
    case "groups":
      return { type, id };
    case "signal":
      return { type, id, to: victim.cid, signal: validSignal(rng) };
    default:
      return { type: "rename", id, name: "Eve" };
  }
}

/** A wrong value for one field of a request type: [field, value, code], `undefined` deletes. */
function breakField(rng: Rng, scene: Scene, frame: Frame): [string, Json | undefined, ErrorCode] {
  const P = "INVALID_PARAMETER";
  const notString = (): Json => rng.pick<Json>([42, true, null, [], {}, ["x"], { x: "y" }]);
  const pageBreak = (): [string, Json | undefined, ErrorCode] =>
    rng.pick<() => [string, Json | undefined, ErrorCode]>([
      () => ["limit", rng.pick<Json>([0, -1, 1001, 1.5, "10", null, true, 2 ** 53, [10]]), P],
      () => ["startKey", notString(), P],
      () => ["startKey", "k".repeat(1025), P],
      () => ["ascending", rng.pick<Json>(["true", 1, 0, null, []]), P],
    ])();
  switch (frame.type) {
    case "join":
      return rng.chance(0.1) ? ["group", undefined, P] : ["group", badGroupName(rng), P];
    case "post":
      return rng.pick<() => [string, Json | undefined, ErrorCode]>([
        () => ["message", undefined, P],
        () => ["recipient", notString(), P],
        () => ["recipient", "r".repeat(rng.range(65, 500)), P],
        () => ["message", "m".repeat(LIMITS.maxPayloadBytes), "PAYLOAD_TOO_LARGE"],
        () => ["message", { big: "€".repeat(11_000) }, "PAYLOAD_TOO_LARGE"],
        () => [
          "message",
          JSON.parse(deepText(LIMITS.maxPayloadDepth + 1, rng.chance(0.5))),
          "PAYLOAD_TOO_LARGE",
        ],
      ])();
    case "users":
      return rng.pick<() => [string, Json | undefined, ErrorCode]>([
        () => ["group", undefined, P],
        () => ["group", rng.chance(0.5) ? badGroupName(rng) : rng.pick<Json>(["", null]), P],
        () => ["user_id", notString(), P],
        () => ["user_id", "u".repeat(65), P],
        pageBreak,
      ])();
    case "groups":
      return rng.pick<() => [string, Json | undefined, ErrorCode]>([
        () => ["searchFor", rng.pick<Json>(["", "users", "GROUP", 1, null, []]), P],
        () => ["value", rng.pick<Json>([1, 0, null, true, [], {}]), P],
        () => ["value", "v".repeat(65), P],
        () => ["range", rng.pick<Json>([2, null, false, {}]), P],
        () => ["condition", rng.pick<Json>(["==", "", "GT", "=<", 1, null, [">"]]), P],
        pageBreak,
      ])();
    case "signal":
      return breakSignal(rng, scene);
    default:
      return [
        "name",
        rng.pick<Json | undefined>([
          undefined,
          "",
          "   ",
          "\n\t",
          "\u00a0",
          42,
          null,
          [],
          {},
          "n".repeat(65),
          "n".repeat(rng.range(66, 50_000)),
        ]),
        P,
      ];
  }
}

/** One broken part of a signal request aimed at a victim's real cid. */
function breakSignal(rng: Rng, scene: Scene): [string, Json | undefined, ErrorCode] {
  const P = "INVALID_PARAMETER";
  const victim = rng.pick(scene.victims);
  const good = validSignal(rng);
  const call = good.call;
  const to = (): [string, Json | undefined, ErrorCode] => [
    "to",
    rng.pick<Json | undefined>([
      undefined,
      "",
      "cid:",
      "cid:short",
      victim.user_id,
      victim.cid + "!",
      victim.cid + " ",
      victim.cid.toUpperCase(),
      "cid:" + "A".repeat(87),
      42,
      null,
      [victim.cid],
      { cid: victim.cid },
    ]),
    P,
  ];
  const signal = (value: Json | undefined, code: ErrorCode = P) =>
    ["signal", value, code] as [string, Json | undefined, ErrorCode];
  return rng.pick<() => [string, Json | undefined, ErrorCode]>([
    to,
    () => signal(undefined),
    () => signal(rng.pick<Json>([null, "hangup", 1, [], [good]])),
    () => signal(JSON.parse(deepText(rng.range(33, 2_000), false))),
    () => signal({ call }),
    () => signal({ kind: rng.pick<Json>(["nope", "HANGUP", "", null, 1, ["call"]]), call }),
    () => signal({ kind: "hangup" }),
    () =>
      signal({
        kind: "accept",
        call: rng.pick<Json>(["", "a b", "x".repeat(65), "ä", "a.b", 42, null, [], {}]),
      }),
    () =>
      signal({
        ...good,
        [rng.pick(["sender", "sender_cid", "name", "sender_rid", "from", "to", "id", "__x"])]:
          randomJson(rng, 2),
      }),
    () => signal(JSON.parse(`{"kind":"accept","call":"c","__proto__":{"admin":true}}`)),
    () => signal({ kind: "accept", call, reason: "no" }),
    () => signal({ kind: "hangup", call, reason: rng.pick<Json>([42, null, "r".repeat(257)]) }),
    () =>
      signal({
        kind: "call",
        call,
        media: rng.pick<Json>([
          "yes",
          null,
          { audio: 1, video: true },
          { audio: true },
          { audio: true, video: false, screen: true },
        ]),
      }),
    () =>
      signal({
        kind: "call",
        call,
        channels: rng.pick<Json>([
          "x",
          {},
          [null],
          ["chat"],
          [{ id: 1 }],
          [{ label: "a", id: 1 }, { label: "b", id: 1 }],
          [{ label: "a", id: 1024 }],
          [{ label: "a", id: -1 }],
          [{ label: "a", id: 1.5 }],
          [{ label: "a", id: 1, ordered: "yes" }],
          [{ label: "a", id: 1, maxPacketLifeTime: 70_000 }],
          [{ label: "a", id: 1, maxPacketLifeTime: 1, maxRetransmits: 1 }],
          [{ label: "a", id: 1, protocol: "p".repeat(257) }],
          [{ label: "l".repeat(257), id: 1 }],
          [{ label: "a", id: 1, sender: "x" }],
          Array.from({ length: 33 }, (_, i) => ({ label: "c", id: i })),
        ]),
      }),
    () =>
      signal({
        kind: "description",
        call,
        description: rng.pick<Json>([
          null,
          "offer",
          [],
          {},
          { type: "bogus" },
          { sdp: "v=0" },
          { type: "offer", sdp: 42 },
          { type: "offer", sdp: "v=0", extra: 1 },
        ]),
      }),
    () =>
      signal(
        { kind: "description", call, description: { type: "offer", sdp: "s".repeat(61 * 1024) } },
        "PAYLOAD_TOO_LARGE",
      ),
    () =>
      signal({
        kind: "candidate",
        call,
        candidate: rng.pick<Json>([
          "candidate:1",
          [],
          {},
          { candidate: 42 },
          { candidate: "c".repeat(1025) },
          { candidate: "c", sdpMLineIndex: 1024 },
          { candidate: "c", sdpMLineIndex: -1 },
          { candidate: "c", sdpMLineIndex: "0" },
          { candidate: "c", sdpMid: 42 },
          { candidate: "c", usernameFragment: "u".repeat(257) },
          { candidate: "c", foundation: "1" },
        ]),
      }),
    () => signal({ kind: "candidate", call }),
  ])();
}

/**
 * One frame of a random family; most are hostile, a few (when
 * `scene.legit`) are legitimate actions whose effects the test expects.
 * Keeps `scene.group` in step with the joins it makes.
 */
export function hostileFrame(rng: Rng, scene: Scene): Hostile {
  // Per mille. Deep nesting is rare: the server takes milliseconds to parse one.
  const roll = rng.int(1000);
  if (roll < 60) return binaryFrame(rng);
  if (roll < 140) return garbageText(rng);
  if (roll < 220) return unknownType(rng, scene);
  if (roll < 540) return wrongField(rng, scene);
  if (roll < 620) return badId(rng, scene);
  if (roll < 720) return forgedStamp(rng, scene);
  if (roll < 735) return deepNesting(rng, scene);
  if (roll < 765) return hugeString(rng, scene);
  if (roll < 845) return refusedRequest(rng, scene);
  if (roll < 885) return pongOrBye(rng, scene);
  if (roll < 905) return harmlessRequest(rng, scene);
  if (roll < 950 || !scene.legit) return wrongField(rng, scene);
  return legitAction(rng, scene);
}

function binaryFrame(rng: Rng): Hostile {
  // Within the frame limit: an oversize one closes the socket (1009), which the
  // oversize family and bad_input_test cover.
  const bytes = new Uint8Array(rng.chance(0.05) ? rng.range(1024, 64 * 1024) : rng.range(0, 256));
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
  const json = new TextEncoder().encode('{"type":"join","id":1,"group":"a"}');
  if (bytes.length >= json.length && rng.chance(0.3)) bytes.set(json);
  // Binary frames are refused whatever they hold, and carry no usable id.
  return { label: "binary", data: bytes, expect: { kind: "error", code: "INVALID_REQUEST" } };
}

function garbageText(rng: Rng): Hostile {
  for (;;) {
    const text = rng.pick<() => string>([
      () => randomString(rng, 200),
      () => "",
      () => " ",
      () => "{",
      () => "{oops",
      () => "null",
      () => "[]",
      () => '"join"',
      () => "NaN",
      () => "Infinity",
      () => "undefined",
      () => "{'type':'join','id':1}",
      () => '{"type":"join","id":1,}',
      () => '{"type":"join","id":1} {"type":"join","id":2}',
      () => '\ufeff{"type":"join","id":1,"group":"alpha"}',
      () => '{"type":"join","id":1,"group":"alpha"}'.slice(0, rng.range(1, 36)),
      () => '{"type":"post","id":1,"message":"x" /* c */}',
      () => '{"type":"post","id":01,"message":1}',
      () => '{"type":"post","id":0x1,"message":1}',
      () => '{"type":"post","id":1,"message":"\\x41"}',
      () => '{"type":"post","id":1,"message":"\\u12"}',
      () => '{"type":"post","id":1,"message":"a\u0001b"}',
      () => JSON.stringify(randomJson(rng, 3)),
      () => String(rng.pick(ODD_NUMBERS)),
    ])();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return error("garbage-text", text, "INVALID_REQUEST");
    }
    // Only non-objects here; objects are the other generators' business.
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return error("non-object-json", text, "INVALID_REQUEST");
    }
  }
}

const CLIENT_TYPES: readonly string[] = CLIENT_FRAME_TYPES;

function unknownType(rng: Rng, scene: Scene): Hostile {
  const type = rng.pick<() => Json | undefined>([
    () => undefined,
    () => rng.pick(SERVER_FRAME_TYPES.filter((t) => !CLIENT_TYPES.includes(t))),
    () => "JOIN",
    () => "join ",
    () => "Post",
    () => "teleport",
    () => "__proto__",
    () => "",
    () => null,
    () => 1,
    () => ["join"],
    () => ({ type: "join" }),
    () => randomString(rng, 20),
  ])();
  const frame: Record<string, Json> = {};
  if (type !== undefined) frame.type = type;
  if (rng.chance(0.7)) {
    const id = rng.chance(0.8) ? scene.nextId() : randomJson(rng, 1);
    // A usable id must be a fresh one: answers are matched by id.
    frame.id = Number.isSafeInteger(id) && (id as number) >= 0 ? scene.nextId() : id;
  }
  for (let i = rng.int(4); i > 0; i--) frame[randomString(rng, 8)] = randomJson(rng, 2);
  const text = JSON.stringify(frame);
  if (typeof frame.type === "string" && CLIENT_TYPES.includes(frame.type)) {
    return error("unknown-type", JSON.stringify({ ...frame, type: "nope" }), "INVALID_REQUEST");
  }
  return error("unknown-type", text, "INVALID_REQUEST");
}

const REQUESTS = ["join", "post", "users", "groups", "signal", "rename"] as const;

function wrongField(rng: Rng, scene: Scene): Hostile {
  const type = rng.pick(REQUESTS);
  const frame = template(rng, scene, type, scene.nextId());
  const [field, value, code] = breakField(rng, scene, frame);
  if (value === undefined) delete frame[field];
  else frame[field] = value;
  return error(`wrong-field:${type}.${field}`, JSON.stringify(frame), code);
}

function badId(rng: Rng, scene: Scene): Hostile {
  const type = rng.pick(REQUESTS);
  const frame = template(rng, scene, type, 0);
  // Since protocol v3 a signal may go without id (relayed unacked): not a bad one.
  const id = rng.pick<Json | undefined>([
    ...(type === "signal" ? [] : [undefined]),
    -1,
    1.5,
    "7",
    null,
    true,
    2 ** 53,
    -(2 ** 53),
    1e300,
    [1],
    { id: 1 },
  ]);
  if (id === undefined) delete frame.id;
  else frame.id = id;
  return error(`bad-id:${type}`, JSON.stringify(frame), "INVALID_PARAMETER");
}

/**
 * A valid request plus a field the server stamps itself (or another it does
 * not know). Refused: were it relayed, the victims would see a forged sender.
 * (`type` and `kind` are left to fuzz_test.ts's own test of them.)
 */
function forgedStamp(rng: Rng, scene: Scene): Hostile {
  const type = rng.pick([...REQUESTS, "pong", "bye"]);
  const frame: Frame = type === "pong" || type === "bye"
    ? { type }
    : template(rng, scene, type, scene.nextId());
  const victim = rng.pick(scene.victims);
  const forged = rng.pick<[string, Json]>([
    ["sender", victim.user_id],
    ["sender_cid", victim.cid],
    ["sender_rid", rng.pick(scene.groups)],
    ["name", "Admin"],
    ["user_id", victim.user_id],
    ["cid", victim.cid],
    ["isolate", "iso-x"],
    ["from", victim.cid],
    ["session", "s"],
    ["resumed", true],
    ["received", 1],
    ["result", {}],
    ["code", "USER_JOINED"],
  ]);
  // `name` is rename's own field, `user_id` users', and `received` pong's.
  if (
    (forged[0] === "name" && type === "rename") || (forged[0] === "user_id" && type === "users") ||
    (forged[0] === "received" && type === "pong")
  ) {
    forged[0] = "sender";
  }
  let text = JSON.stringify({ ...frame, [forged[0]]: forged[1] });
  if (rng.chance(0.1)) text = text.slice(0, -1) + ',"__proto__":{"sender":"x"}}';
  return error(`forged:${type}.${forged[0]}`, text, "INVALID_PARAMETER");
}

function deepNesting(rng: Rng, scene: Scene): Hostile {
  const levels = rng.chance(0.5) ? 10_000 : rng.range(LIMITS.maxPayloadDepth + 1, 9_999);
  const objects = rng.chance(0.5);
  const deep = deepText(levels, objects);
  const id = scene.nextId();
  const [label, text, code] = rng.pick<() => [string, string, ErrorCode]>([
    () => ["deep:top", deep, "INVALID_REQUEST"],
    () => ["deep:message", `{"type":"post","id":${id},"message":${deep}}`, "PAYLOAD_TOO_LARGE"],
    () => ["deep:group", `{"type":"join","id":${id},"group":${deep}}`, "INVALID_PARAMETER"],
    () => ["deep:id", `{"type":"join","id":${deep},"group":"alpha"}`, "INVALID_PARAMETER"],
    () => ["deep:type", `{"type":${deep},"id":${id}}`, "INVALID_REQUEST"],
    () => ["deep:unknown-field", `{"type":"groups","id":${id},"x":${deep}}`, "INVALID_PARAMETER"],
    () => [
      "deep:candidate",
      `{"type":"signal","id":${id},"to":${JSON.stringify(rng.pick(scene.victims).cid)},` +
      `"signal":{"kind":"candidate","call":"c","candidate":${deep}}}`,
      "INVALID_PARAMETER",
    ],
  ])();
  return error(label, text, code);
}

/** Big strings that still fit in a frame (the 1009 ones are `oversizeFrame`'s). */
function hugeString(rng: Rng, scene: Scene): Hostile {
  const id = scene.nextId();
  const room = (prefix: string) => LIMITS.maxFrameBytes - new TextEncoder().encode(prefix).length;
  return rng.pick<() => Hostile>([
    () => {
      // Exactly at the frame limit: read, then refused for the payload.
      const head = `{"type":"post","id":${id},"message":"`;
      return error(
        "huge:frame-at-limit",
        head + "x".repeat(room(head) - 2) + '"}',
        "PAYLOAD_TOO_LARGE",
      );
    },
    () => {
      const head = `{"type":"join","id":${id},"group":"`;
      return error(
        "huge:group",
        head + "g".repeat(room(head) - 2 - rng.int(100)) + '"}',
        "INVALID_PARAMETER",
      );
    },
    () => {
      const head = `{"type":"rename","id":${id},"name":"`;
      return error(
        "huge:name",
        head + "n".repeat(room(head) - 2 - rng.int(100)) + '"}',
        "INVALID_PARAMETER",
      );
    },
    () => {
      // 3-byte characters: 21,800 of them are 65,400 bytes, under the limit.
      const head = `{"type":"post","id":${id},"message":"`;
      return error("huge:multibyte-under", head + "€".repeat(21_800) + '"}', "PAYLOAD_TOO_LARGE");
    },
    () => {
      const text = `"${"s".repeat(rng.range(60_000, LIMITS.maxFrameBytes - 2))}"`;
      return error("huge:bare-string", text, "INVALID_REQUEST");
    },
    () => {
      const head = `{"type":"teleport","id":${id},"x":"`;
      return error(
        "huge:unknown-type",
        head + "t".repeat(room(head) - 2) + '"}',
        "INVALID_REQUEST",
      );
    },
  ])();
}

/** A frame over the 64 KiB limit: the socket must close with 1009. */
export function oversizeFrame(rng: Rng, scene: Scene): Hostile {
  const id = scene.nextId();
  const text = rng.pick<() => string>([
    () => "x".repeat(LIMITS.maxFrameBytes + 1),
    () => {
      const head = `{"type":"post","id":${id},"message":"`;
      return head + "x".repeat(LIMITS.maxFrameBytes - head.length - 1) + '"}';
    },
    // Fewer characters than the limit, more bytes: the limit counts UTF-8 bytes.
    () => `{"type":"post","id":${id},"message":"${"€".repeat(21_900)}"}`,
    () => `{"type":"post","id":${id},"message":"${"😀".repeat(16_400)}"}`,
    () => deepText(40_000, false),
    () => "y".repeat(rng.range(70_000, 1024 * 1024)),
  ])();
  return { label: "oversize", data: text, expect: { kind: "close", code: 1009 } };
}

/** Well-formed requests the server must refuse for what they ask. */
function refusedRequest(rng: Rng, scene: Scene): Hostile {
  const id = scene.nextId();
  const others = scene.groups.filter((g) => g !== scene.group);
  const message = randomJson(rng, 3);
  return rng.pick<() => Hostile>([
    () => {
      // A post to a group this attacker has not joined (or to none at all).
      const frame: Frame = { type: "post", id, message };
      if (scene.group !== null || rng.chance(0.5)) {
        frame.recipient = rng.chance(0.8)
          ? rng.pick(others)
          : (scene.group ?? "alpha").toUpperCase() + (scene.group ? "" : "-x");
      }
      return error("refused:post-not-joined", JSON.stringify(frame), "INVALID_REQUEST");
    },
    () => {
      const recipient = rng.pick([
        "not-a-uuid",
        "cid:x",
        "",
        "00000000-0000-0000-0000-00000000000",
      ]);
      const frame = { type: "post", id, message, recipient };
      // No user_id and no group name at all: the parse refuses the field;
      // a group name that is not the joined group: the request is refused.
      const code = recipient === "" ? "INVALID_PARAMETER" : "INVALID_REQUEST";
      return error("refused:post-bad-recipient", JSON.stringify(frame), code);
    },
    () =>
      error(
        "refused:post-nobody",
        JSON.stringify({ type: "post", id, message, recipient: crypto.randomUUID() }),
        "NOT_FOUND",
      ),
    () =>
      error(
        "refused:signal-nobody",
        JSON.stringify({ type: "signal", id, to: strayCid(rng), signal: validSignal(rng) }),
        "NOT_FOUND",
      ),
  ])();
}

function pongOrBye(rng: Rng, scene: Scene): Hostile {
  return rng.pick<() => Hostile>([
    // The exact pong skips the rate limit; any other is counted, so may be RATE_LIMITED.
    () => ({ label: "pong", data: '{"type":"pong"}', expect: { kind: "silent" } }),
    () => ({ label: "pong", data: '{"type":"pong"}', expect: { kind: "silent" } }),
    () =>
      !scene.legit ? pongOrBye(rng, scene) : ({
        label: "pong-received",
        data: JSON.stringify({ type: "pong", received: rng.int(1000) }),
        expect: { kind: "silent" },
      }),
    () =>
      error(
        "pong-bad-received",
        JSON.stringify({ type: "pong", received: rng.pick<Json>([-1, 1.5, "3", null, []]) }),
        "INVALID_PARAMETER",
      ),
    () =>
      error(
        "pong-with-id",
        JSON.stringify({ type: "pong", id: scene.nextId() }),
        "INVALID_PARAMETER",
      ),
    () =>
      error(
        "bye-with-id",
        JSON.stringify({ type: "bye", id: scene.nextId() }),
        "INVALID_PARAMETER",
      ),
    () =>
      error("bye-with-field", JSON.stringify({ type: "bye", reason: "x" }), "INVALID_PARAMETER"),
  ])();
}

const isPage = (result: unknown): string | null => {
  const page = result as { list?: unknown; startKey?: unknown; endOfList?: unknown };
  return Array.isArray(page?.list) && typeof page.startKey === "string" &&
      typeof page.endOfList === "boolean"
    ? null
    : `not a page: ${JSON.stringify(result)}`;
};

/** Valid list requests with odd paging: acked with a page, nobody else hears a thing. */
function harmlessRequest(rng: Rng, scene: Scene): Hostile {
  const id = scene.nextId();
  const page: Frame = {};
  if (rng.chance(0.5)) page.limit = rng.pick([1, 1000, rng.range(1, 1000)]);
  if (rng.chance(0.5)) {
    page.startKey = rng.pick(["end", "\ud800", "~", randomString(rng, 40) || "k"]);
  }
  if (rng.chance(0.5)) page.ascending = rng.chance(0.5);
  const frame: Frame = rng.chance(0.5)
    ? { type: "users", id, group: rng.pick(scene.groups), ...page }
    : {
      type: "groups",
      id,
      ...page,
      ...rng.pick<Frame>([
        {},
        { searchFor: "group", value: "al" },
        { searchFor: "number_of_users", value: 1, condition: rng.pick(["gte", ">", "!="]) },
        { searchFor: "number_of_users", value: 0, range: 1e308 },
        { value: "a", range: "z" },
      ]),
    };
  return {
    label: `harmless:${frame.type}`,
    data: JSON.stringify(frame),
    expect: { kind: "ack", id, check: isPage },
  };
}

const NAMES = [
  "<img src=x onerror=alert(1)>",
  " padded ",
  "Eve\u202e",
  "😀".repeat(32),
  "Admin",
  "n".repeat(64),
];

/** Legitimate actions: their acks are checked, their effects expected by the victims. */
function legitAction(rng: Rng, scene: Scene): Hostile {
  const id = scene.nextId();
  const roll = rng.int(10);
  if (roll < 4) {
    const group = rng.chance(0.15) ? null : rng.pick(scene.groups);
    scene.group = group;
    return {
      label: "legit:join",
      data: JSON.stringify({ type: "join", id, group: group ?? (rng.chance(0.5) ? null : "") }),
      expect: {
        kind: "ack",
        id,
        check: (r) =>
          JSON.stringify(r) === JSON.stringify({ group })
            ? null
            : `join acked ${JSON.stringify(r)}`,
      },
      effect: { kind: "join", group },
    };
  }
  if (roll < 5) {
    const name = rng.pick(NAMES);
    // As the server shows names: control and format characters gone, trimmed, ≤ 64.
    const trimmed = name.replace(/[\p{Cc}\p{Cf}]/gu, "").trim().slice(0, 64);
    return {
      label: "legit:rename",
      data: JSON.stringify({ type: "rename", id, name }),
      expect: {
        kind: "ack",
        id,
        check: (r) =>
          (r as { name?: string })?.name === trimmed ? null : `rename acked ${JSON.stringify(r)}`,
      },
      effect: { kind: "rename", name: trimmed },
    };
  }
  const to = rng.int(scene.victims.length);
  if (roll < 8) {
    const message = JSON.parse(JSON.stringify({ marker: id, body: randomJson(rng, 4) }));
    return {
      label: "legit:private",
      data: JSON.stringify({ type: "post", id, message, recipient: scene.victims[to].user_id }),
      expect: {
        kind: "ack",
        id,
        check: (r) =>
          (r as { delivered?: number })?.delivered === 1
            ? null
            : `private acked ${JSON.stringify(r)}`,
      },
      effect: { kind: "private", to, message },
    };
  }
  const signal = JSON.parse(JSON.stringify(validSignal(rng)));
  return {
    label: "legit:signal",
    data: JSON.stringify({ type: "signal", id, to: scene.victims[to].cid, signal }),
    expect: {
      kind: "ack",
      id,
      // A ring's ack names the callee (here on one hub, always known); other signals' are empty.
      check: (r) =>
        JSON.stringify(r) ===
            (signal.kind === "call" ? JSON.stringify({ user_id: scene.victims[to].user_id }) : "{}")
          ? null
          : `signal acked ${JSON.stringify(r)}`,
    },
    effect: { kind: "signal", to, signal },
  };
}

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const object = value as Record<string, unknown>;
  return `{${
    Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${canonical(object[k])}`).join(",")
  }}`;
}
