/**
 * What a post's `message` may be: any JSON value within the size and depth
 * limits. The server checks it on arrival, the SDK before sending.
 *
 * @module
 */
import type { Json } from "./frames.ts";
import { exceedsBytes, LIMITS, type Limits, payloadBytes } from "./limits.ts";
import { checkDepth, reject } from "./_util.ts";

/**
 * Checks a post's `message`: JSON, at most `limits.maxPayloadBytes` as UTF-8
 * JSON and `limits.maxPayloadDepth` levels deep. The SDK calls it before
 * sending, so an oversize message fails locally.
 *
 * @throws {RangeError} When the message is too large or too deep.
 * @throws {TypeError} When the message is not JSON (`undefined`, a function…).
 *
 * @example
 * ```ts
 * import { checkPayload } from "./mod.ts";
 * checkPayload({ text: "hello" }); // ok
 * ```
 */
export function checkPayload(
  message: unknown,
  limits: Pick<Limits, "maxPayloadBytes" | "maxPayloadDepth"> = LIMITS,
): Json {
  payloadText(message, limits);
  return message as Json;
}

/**
 * Checks a post's `message` as {@linkcode checkPayload} does and returns it
 * as JSON text: what a sender puts on the wire, written once (the size is
 * read from that same text, and from its length alone unless it is near
 * the limit). `undefined` when the value writes as nothing (a `toJSON` that
 * returns `undefined`), as `JSON.stringify` then leaves the field out.
 *
 * @throws {RangeError} When the message is too large or too deep.
 * @throws {TypeError} When the message is not JSON (`undefined`, a function…).
 *
 * @example
 * ```ts
 * import { payloadText } from "./mod.ts";
 * payloadText({ text: "hello" }); // '{"text":"hello"}'
 * ```
 */
export function payloadText(
  message: unknown,
  limits: Pick<Limits, "maxPayloadBytes" | "maxPayloadDepth"> = LIMITS,
): string | undefined {
  if (
    message === undefined || typeof message === "function" ||
    typeof message === "symbol" || typeof message === "bigint"
  ) {
    reject(TypeError, "message", "must be a JSON value", message);
  }
  checkDepth(message, limits.maxPayloadDepth, "message");
  const text: string | undefined = JSON.stringify(message);
  if (text !== undefined && exceedsBytes(text, limits.maxPayloadBytes)) {
    reject(
      RangeError,
      "message",
      `must be at most ${limits.maxPayloadBytes} bytes as JSON`,
      `${payloadBytes(message)} bytes`,
    );
  }
  return text;
}

/**
 * A `post` frame's text, with its `message` already written as JSON text
 * (by {@linkcode payloadText}): exactly what `JSON.stringify` writes for
 * `{ type: "post", message, recipient, id }`, without writing the message
 * a second time.
 *
 * @example
 * ```ts
 * import { payloadText, postFrameText } from "./mod.ts";
 * postFrameText(payloadText("hi"), "lobby", 7); // '{"type":"post","message":"hi","recipient":"lobby","id":7}'
 * ```
 */
export function postFrameText(
  message: string | undefined,
  recipient: string | undefined,
  id: number,
): string {
  const head = message === undefined ? '{"type":"post"' : `{"type":"post","message":${message}`;
  const to = recipient === undefined ? "" : `,"recipient":${JSON.stringify(recipient)}`;
  return `${head}${to},"id":${id}}`;
}
