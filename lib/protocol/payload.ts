/**
 * What a post's `message` may be: any JSON value within the size and depth
 * limits. The server checks it on arrival, the SDK before sending.
 *
 * @module
 */
import type { Json } from "./frames.ts";
import { LIMITS, type Limits, payloadBytes } from "./limits.ts";
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
  if (
    message === undefined || typeof message === "function" ||
    typeof message === "symbol" || typeof message === "bigint"
  ) {
    reject(TypeError, "message", "must be a JSON value", message);
  }
  checkDepth(message, limits.maxPayloadDepth, "message");
  const bytes = payloadBytes(message);
  if (bytes > limits.maxPayloadBytes) {
    reject(
      RangeError,
      "message",
      `must be at most ${limits.maxPayloadBytes} bytes as JSON`,
      `${bytes} bytes`,
    );
  }
  return message as Json;
}
