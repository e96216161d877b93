/**
 * Parley's wire protocol: every frame both ways, the one validator, the
 * limits and the error codes. Both the server and the SDK import this
 * module, and it imports neither, nor any Deno or DOM API.
 *
 * @example Validate an inbound frame
 * ```ts
 * import { errorCodeOf, parseClientFrame } from "./mod.ts";
 * try {
 *   parseClientFrame('{"type":"join","id":1,"group":"bad name!"}');
 * } catch (error) {
 *   console.log(errorCodeOf(error)); // "INVALID_PARAMETER"
 * }
 * ```
 *
 * @module
 */
export * from "./limits.ts";
export * from "./errors.ts";
export * from "./frames.ts";
export * from "./signal.ts";
export * from "./parse.ts";
export * from "./payload.ts";
export * from "./peerjs.ts";
