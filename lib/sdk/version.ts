/**
 * This SDK's release: the version of the npm package `parley-sdk` built
 * from it (`deno task sdk:pack`). The wire's version is a separate number,
 * `PROTOCOL_VERSION`, which both sides check on connect.
 *
 * @module
 */

/**
 * The SDK's release, as semver.
 *
 * @example
 * ```ts
 * import { SDK_VERSION } from "./mod.ts";
 * console.log(`parley-sdk ${SDK_VERSION}`);
 * ```
 */
export const SDK_VERSION = "0.1.0";
