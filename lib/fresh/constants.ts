/**
 * URLs and names shared by the server and the browser runtime.
 *
 * @module
 */

/** Every URL the framework itself serves starts with this prefix. */
export const INTERNAL_PREFIX = "/_frsh";

/**
 * Client bundles are served at `${JS_PREFIX}/<build id>/<file>`; the build id
 * in the path makes them safe to cache forever.
 */
export const JS_PREFIX = `${INTERNAL_PREFIX}/js`;

/** Query key `asset()` adds to a static URL so it can be cached forever. */
export const ASSET_CACHE_BUST_KEY = "__frsh_c";

/** Id of the `<script type="application/json">` holding island props. */
export const STATE_SCRIPT_ID = "__FRSH_STATE";

/**
 * The `ctx.state` key of a Content-Security-Policy nonce: a middleware that
 * sets `ctx.state[NONCE_STATE_KEY]` (and sends `script-src 'nonce-…'`) gets
 * it on the one inline script the renderer writes, the island boot module.
 */
export const NONCE_STATE_KEY = "cspNonce";

/** `Cache-Control` of URLs that carry the build id. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
