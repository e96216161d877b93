// Over 300 lines: the one gate: every client frame's checks together, so no rule is written twice.
/**
 * The validators of the wire. `parseClientFrame` is the one gate every
 * inbound frame passes on the server: it throws `SyntaxError` (not a frame
 * the server understands), `TypeError` (a bad field) or `RangeError` (over a
 * size limit), each with a message that names the field and its rule.
 *
 * @module
 */
import {
  CLIENT_FRAME_TYPES,
  type ClientFrame,
  CONDITIONS,
  type ErrorFrame,
  type ParsedClientFrame,
  type Recipient,
  SERVER_FRAME_TYPES,
  type ServerFrame,
} from "./frames.ts";
import {
  exceedsBytes,
  GROUP_NAME_PATTERN,
  isCid,
  isGroupName,
  isUserId,
  LIMITS,
  type Limits,
} from "./limits.ts";
import { checkPayload } from "./payload.ts";
import { checkSignal, SIGNAL_KINDS, type SignalKind } from "./signal.ts";
import {
  type Fields,
  isObject,
  nonNegativeInteger,
  onlyFields,
  optionalString,
  reject,
  show,
  tagged,
} from "./_util.ts";

/** The fields each client frame type may have, besides `type`. */
const CLIENT_FIELDS: Record<ClientFrame["type"], readonly string[]> = {
  join: ["id", "group"],
  post: ["id", "message", "recipient"],
  users: ["id", "group", "user_id", "limit", "startKey", "ascending"],
  groups: [
    "id",
    "searchFor",
    "value",
    "condition",
    "range",
    "limit",
    "startKey",
    "ascending",
  ],
  signal: ["id", "to", "signal"],
  rename: ["id", "name"],
  auth: ["id", "token"],
  pong: ["received"],
  bye: [],
  hello: ["token", "proof", "resume"],
};

/** Longest access token or identity proof a client may present. */
const MAX_CREDENTIAL_LENGTH = 4096;

function checkHello(frame: Fields): void {
  optionalString(frame, "token", MAX_CREDENTIAL_LENGTH);
  optionalString(frame, "proof", MAX_CREDENTIAL_LENGTH);
  const { resume } = frame;
  if (resume === undefined) return;
  if (!isObject(resume)) reject(TypeError, "resume", "must be an object", resume);
  onlyFields(resume, ["cid", "session", "received"], "'resume'", "resume.");
  if (!isCid(resume.cid)) {
    reject(
      TypeError,
      "resume.cid",
      'must be a cid ("cid:" and 22+ base64url characters)',
      resume.cid,
    );
  }
  if (typeof resume.session !== "string" || resume.session === "") {
    reject(TypeError, "resume.session", "must be a non-empty string", resume.session);
  }
  optionalString(resume, "session", 128, "resume.");
  nonNegativeInteger(resume.received, "resume.received");
}

function groupName(value: unknown, field = "group"): string {
  if (!isGroupName(value)) {
    reject(
      TypeError,
      field,
      `must be 1–64 characters without control characters (${GROUP_NAME_PATTERN})`,
      value,
    );
  }
  return value;
}

function checkPage(frame: Fields, limits: Limits): void {
  const { limit, ascending } = frame;
  if (
    limit !== undefined &&
    (!Number.isSafeInteger(limit) || (limit as number) < 1 ||
      (limit as number) > limits.maxPageSize)
  ) {
    reject(
      TypeError,
      "limit",
      `must be an integer from 1 to ${limits.maxPageSize}`,
      limit,
    );
  }
  optionalString(frame, "startKey", 1024);
  if (ascending !== undefined && typeof ascending !== "boolean") {
    reject(TypeError, "ascending", "must be a boolean", ascending);
  }
}

/**
 * A frame over `maxFrameBytes`: the server closes the socket (1009) rather
 * than answer it, since it cannot trust the rest of the stream.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError, parseClientFrame } from "./mod.ts";
 * try {
 *   parseClientFrame("x".repeat(70_000));
 * } catch (error) {
 *   console.log(error instanceof FrameTooLargeError); // true
 * }
 * ```
 */
export class FrameTooLargeError extends RangeError {
  override name = "FrameTooLargeError";
}

/**
 * A display name as others will see it: control and format characters
 * (bidi overrides, zero-width spaces…) removed, trimmed, at most
 * `maxDisplayNameLength` characters; `""` when nothing is left. The one
 * name rule: names from a token or the URL pass it, and renames (see
 * {@linkcode parseDisplayName}).
 *
 * @example
 * ```ts
 * import { cleanDisplayName } from "./mod.ts";
 * cleanDisplayName("  Ada\u202e "); // "Ada"
 * ```
 */
export function cleanDisplayName(raw: string | null | undefined, limits: Limits = LIMITS): string {
  return (raw ?? "").replace(/[\p{Cc}\p{Cf}]/gu, "").trim().slice(0, limits.maxDisplayNameLength);
}

/**
 * A rename's `name`, cleaned by {@linkcode cleanDisplayName}.
 *
 * @throws {TypeError} when it is no string, longer than `maxDisplayNameLength`, or has no visible character
 * @example
 * ```ts
 * import { parseDisplayName } from "./mod.ts";
 * parseDisplayName(" Ada "); // "Ada"
 * ```
 */
export function parseDisplayName(value: unknown, limits: Limits = LIMITS): string {
  const cleaned = typeof value === "string" && value.length <= limits.maxDisplayNameLength
    ? cleanDisplayName(value, limits)
    : "";
  if (!cleaned) {
    reject(
      TypeError,
      "name",
      `must be a non-empty string of at most ${limits.maxDisplayNameLength} characters with a visible character (control and format characters are removed)`,
      value,
    );
  }
  return cleaned;
}

/**
 * A post's `recipient`: a user_id (lowercased, as user_ids are stored) for
 * a private message, or else a group name.
 *
 * @throws {TypeError} when it is neither
 * @example
 * ```ts
 * import { parseRecipient } from "./mod.ts";
 * parseRecipient("lobby"); // { group: "lobby" }
 * ```
 */
export function parseRecipient(value: unknown): Recipient {
  if (isUserId(value)) return { user_id: value.toLowerCase() };
  if (isGroupName(value)) return { group: value };
  return reject(
    TypeError,
    "recipient",
    `must be a user_id (a UUID) or a group name (${GROUP_NAME_PATTERN})`,
    value,
  );
}

/**
 * Parses and validates one frame a client sent. Accepts the raw text of a
 * WebSocket frame or an already parsed value. Unknown fields are refused,
 * so a client cannot even try to set `sender`.
 *
 * @throws {RangeError} When the frame or its message is over a size limit.
 * @throws {SyntaxError} When the text is not JSON, not an object, or has an unknown `type`.
 * @throws {TypeError} When a field has the wrong type or value.
 *
 * @example Parse a join request
 * ```ts
 * import { parseClientFrame } from "./mod.ts";
 * const frame = parseClientFrame('{"type":"join","id":1,"group":"lobby"}');
 * console.log(frame.type); // "join"
 * ```
 */
export function parseClientFrame(
  raw: unknown,
  limits: Limits = LIMITS,
): ParsedClientFrame {
  let decoded: unknown = raw;
  // Binary frames are sized here too (Blob where the runtime has it), so the
  // limit is checked in one place.
  const bytes = raw instanceof ArrayBuffer
    ? raw.byteLength
    : typeof Blob === "function" && raw instanceof Blob
    ? raw.size
    : -1;
  if (bytes > limits.maxFrameBytes) {
    throw new FrameTooLargeError(
      `Cannot accept frame as it must be at most ${limits.maxFrameBytes} bytes: current size is ${bytes} bytes`,
    );
  }
  if (bytes >= 0) {
    throw new SyntaxError("Cannot accept binary frames: send JSON text frames");
  }
  if (typeof raw === "string") {
    if (exceedsBytes(raw, limits.maxFrameBytes)) {
      throw new FrameTooLargeError(
        `Cannot accept frame as it must be at most ${limits.maxFrameBytes} bytes: current size is ${raw.length}+ characters`,
      );
    }
    try {
      decoded = JSON.parse(raw);
    } catch {
      throw new SyntaxError(
        `Cannot parse frame as it must be JSON text: current value is ${show(raw)}`,
      );
    }
  }
  const [frame, type] = tagged(
    decoded,
    { object: "frame", tag: "type" },
    "type",
    CLIENT_FRAME_TYPES,
    SyntaxError,
  );
  onlyFields(frame, ["type", ...CLIENT_FIELDS[type]], `a '${type}' frame`);
  if (type === "pong" && frame.received !== undefined) {
    nonNegativeInteger(frame.received, "received");
  }
  if (type === "hello") checkHello(frame);
  if (type === "pong" || type === "bye" || type === "hello") {
    return frame as unknown as ParsedClientFrame;
  }
  // A signal without id (v3) is relayed unacked; every other request has one.
  if (type !== "signal" || frame.id !== undefined) nonNegativeInteger(frame.id, "id");
  switch (type) {
    case "join":
      if (frame.group !== null && frame.group !== "") groupName(frame.group);
      if (frame.group === "") frame.group = null;
      break;
    case "post":
      if (!("message" in frame)) {
        reject(TypeError, "message", "is required", undefined);
      }
      checkPayload(frame.message, limits);
      if (frame.recipient !== undefined) frame.recipient = parseRecipient(frame.recipient);
      break;
    case "users":
      groupName(frame.group);
      optionalString(frame, "user_id", 64);
      checkPage(frame, limits);
      break;
    case "groups": {
      checkPage(frame, limits);
      const { searchFor, value, condition, range } = frame;
      if (
        searchFor !== undefined && searchFor !== "group" &&
        searchFor !== "number_of_users"
      ) {
        reject(
          TypeError,
          "searchFor",
          "must be 'group' or 'number_of_users'",
          searchFor,
        );
      }
      const valueType = searchFor === "number_of_users" ? "number" : "string";
      for (const [field, v] of [["value", value], ["range", range]] as const) {
        if (
          v !== undefined &&
          (typeof v !== valueType || (typeof v === "string" && v.length > 64))
        ) {
          reject(
            TypeError,
            field,
            `must be a ${valueType} when searching for ${searchFor ?? "group"}`,
            v,
          );
        }
      }
      if (
        condition !== undefined &&
        !CONDITIONS.includes(condition as typeof CONDITIONS[number])
      ) {
        reject(
          TypeError,
          "condition",
          `must be one of ${CONDITIONS.join(" ")}`,
          condition,
        );
      }
      break;
    }
    case "signal":
      if (!isCid(frame.to)) {
        reject(
          TypeError,
          "to",
          'must be a cid ("cid:" and 22+ base64url characters)',
          frame.to,
        );
      }
      checkSignal(frame.signal, limits);
      break;
    case "rename":
      frame.name = parseDisplayName(frame.name, limits);
      break;
    case "auth":
      if (typeof frame.token !== "string" || frame.token === "") {
        reject(TypeError, "token", "must be a non-empty string", frame.token);
      }
      optionalString(frame, "token", MAX_CREDENTIAL_LENGTH);
      break;
  }
  return frame as unknown as ParsedClientFrame;
}

/**
 * The `id` of a frame that failed validation, when it has a usable one, so
 * the error can be matched to its request.
 *
 * @example
 * ```ts
 * import { requestIdOf } from "./mod.ts";
 * requestIdOf('{"type":"nope","id":7}'); // 7
 * ```
 */
export function requestIdOf(raw: unknown): number | undefined {
  const id = decoded(raw)?.id;
  return Number.isSafeInteger(id) && (id as number) >= 0 ? id as number : undefined;
}

function decoded(raw: unknown): Fields | undefined {
  let frame = raw;
  if (typeof raw === "string") {
    if (raw.length > LIMITS.maxFrameBytes) return undefined;
    try {
      frame = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  return isObject(frame) ? frame : undefined;
}

/** What an `error` frame names to say what failed: a request's `id`, an unacked signal's `signal`. */
export type ErrorRef = Pick<ErrorFrame, "id" | "signal">;

/**
 * What the `error` answering a frame (raw, or as parsed) names: the
 * request's `id`; for a signal without `id` (v3), the signal
 * (`{ to, call, kind }`) when its fields are usable; else nothing.
 *
 * @example
 * ```ts
 * import { errorRefOf } from "./mod.ts";
 * errorRefOf('{"type":"join","id":7}'); // { id: 7 }
 * errorRefOf({ type: "signal", to: "cid:…", signal: { kind: "candidate", call: "c1" } });
 * // { signal: { to: "cid:…", call: "c1", kind: "candidate" } }
 * ```
 */
export function errorRefOf(raw: unknown): ErrorRef {
  const frame = decoded(raw);
  const id = requestIdOf(frame);
  if (id !== undefined || frame?.type !== "signal" || frame.id !== undefined) {
    return id === undefined ? {} : { id };
  }
  const { to, signal } = frame;
  const call = isObject(signal) ? signal.call : undefined;
  const kind = isObject(signal) ? signal.kind : undefined;
  if (
    !isCid(to) || typeof call !== "string" ||
    call.length > LIMITS.maxTokenLength || !SIGNAL_KINDS.includes(kind as SignalKind)
  ) return {};
  return { signal: { to, call, kind: kind as SignalKind } };
}

/**
 * Parses a frame from the server (the SDK's side). The server is trusted to
 * send well-formed frames; this only guards against a foreign endpoint.
 *
 * @throws {SyntaxError} When the text is not a server frame.
 *
 * @example
 * ```ts
 * import { parseServerFrame } from "./mod.ts";
 * parseServerFrame('{"type":"ping"}').type; // "ping"
 * ```
 */
export function parseServerFrame(raw: string): ServerFrame {
  const frame = JSON.parse(raw);
  if (
    !isObject(frame) ||
    !SERVER_FRAME_TYPES.includes(frame.type as ServerFrame["type"])
  ) {
    throw new SyntaxError(
      `Cannot parse server frame as 'type' must be one of ${
        SERVER_FRAME_TYPES.join(", ")
      }: current value is ${show(isObject(frame) ? frame.type : frame)}`,
    );
  }
  if (frame.type === "notices" && !Array.isArray(frame.runs)) {
    throw new SyntaxError("Cannot parse a notices frame as 'runs' must be an array");
  }
  return frame as unknown as ServerFrame;
}
