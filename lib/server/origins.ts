/**
 * Which pages may talk to Parley: the `ALLOWED_ORIGINS` check of WebSocket
 * upgrades, and CORS for the HTTP API and `/sdk.js`. A request without an
 * `Origin` header does not come from a page's script (a server, a CLI, a
 * same-origin navigation) and is not an origin question.
 *
 * @module
 */

/**
 * Whether a request's `Origin` may use Parley: always when `allowed` is null
 * (any) or the request carries no `Origin`; always for the app's own origin
 * (the one the `Host` header names); else only when listed.
 *
 * @example
 * ```ts
 * import { originAllowed } from "./origins.ts";
 * const req = new Request("http://parley.example/api/realtime", {
 *   headers: { origin: "https://evil.example" },
 * });
 * originAllowed(req, ["https://app.example"]); // false
 * ```
 */
export function originAllowed(req: Request, allowed: readonly string[] | null): boolean {
  const origin = req.headers.get("origin");
  if (allowed === null || origin === null) return true;
  if (allowed.includes(origin)) return true;
  const host = req.headers.get("host") ?? new URL(req.url).host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false; // "null" (a sandboxed page, a file:) or garbage
  }
}

/** The headers every CORS answer carries for an allowed origin. */
function allowHeaders(origin: string): Headers {
  return new Headers({
    "access-control-allow-origin": origin,
    "vary": "Origin",
  });
}

/**
 * The CORS headers for a response to `req`: `Access-Control-Allow-Origin`
 * echoing an allowed origin, and `Vary: Origin` always (the answer depends on
 * it). Empty of `Access-Control-*` when the origin is not allowed, so the
 * browser withholds the response from the page.
 *
 * @example
 * ```ts
 * import { corsHeaders } from "./origins.ts";
 * const req = new Request("http://x/sdk.js", { headers: { origin: "https://app.example" } });
 * corsHeaders(req, null).get("access-control-allow-origin"); // "https://app.example"
 * ```
 */
export function corsHeaders(req: Request, allowed: readonly string[] | null): Headers {
  const origin = req.headers.get("origin");
  if (origin === null || !originAllowed(req, allowed)) return new Headers({ vary: "Origin" });
  return allowHeaders(origin);
}

/**
 * Answers a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`):
 * 204 with the methods and headers the API takes for an allowed origin, 403
 * otherwise. Null when `req` is no preflight.
 *
 * @example
 * ```ts
 * import { preflight } from "./origins.ts";
 * const req = new Request("http://x/api/ice", {
 *   method: "OPTIONS",
 *   headers: { origin: "https://app.example", "access-control-request-method": "GET" },
 * });
 * preflight(req, null)?.status; // 204
 * ```
 */
export function preflight(req: Request, allowed: readonly string[] | null): Response | null {
  const origin = req.headers.get("origin");
  if (
    req.method !== "OPTIONS" || origin === null ||
    !req.headers.has("access-control-request-method")
  ) {
    return null;
  }
  if (!originAllowed(req, allowed)) {
    return Response.json(originRefusal(origin), { status: 403, headers: { vary: "Origin" } });
  }
  const headers = allowHeaders(origin);
  headers.set("access-control-allow-methods", "GET, HEAD, OPTIONS");
  headers.set("access-control-allow-headers", "authorization, content-type");
  headers.set("access-control-max-age", "600");
  return new Response(null, { status: 204, headers });
}

/**
 * The typed error body of a refused origin.
 *
 * @example
 * ```ts
 * import { originRefusal } from "./origins.ts";
 * originRefusal("https://evil.example").code; // "UNAUTHORIZED"
 * ```
 */
export function originRefusal(origin: string): { code: "UNAUTHORIZED"; message: string } {
  return {
    code: "UNAUTHORIZED",
    message: `Cannot serve a page from ${origin} as it is not in this server's ALLOWED_ORIGINS`,
  };
}
