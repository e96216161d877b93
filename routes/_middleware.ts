import type { FreshContext } from "$fresh/server.ts";
import { corsHeaders, preflight, securityFromEnv } from "../lib/server/mod.ts";

const { allowedOrigins } = securityFromEnv();

/**
 * Pages may use the camera, the microphone and screen sharing themselves;
 * no frame of another origin may, and nothing else is needed.
 */
const PERMISSIONS_POLICY = [
  "camera=(self)",
  "microphone=(self)",
  "display-capture=(self)",
  "geolocation=()",
  "payment=()",
  "usb=()",
].join(", ");

/**
 * The page policy: scripts only from this origin, plus the renderer's one
 * inline boot module by its per-response nonce. Inline style attributes
 * stay allowed (components may set `style`); sockets go to this host only.
 */
function contentSecurityPolicy(nonce: string, url: URL): string {
  const ws = url.protocol === "https:" ? `wss://${url.host}` : `ws://${url.host} wss://${url.host}`;
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join("; ");
}

/** The SDK bundle, and its declarations (made by `deno task build`). */
const SDK_JS = "/sdk.js";
const SDK_TYPES = "/sdk.d.ts";

/** Paths other origins' pages may read, under `ALLOWED_ORIGINS` (CORS): PeerJS apps fetch ids too. */
function isCrossOriginApi(pathname: string): boolean {
  return pathname.startsWith("/api/") || pathname === SDK_JS || pathname === SDK_TYPES ||
    pathname.startsWith("/peerjs/");
}

/** 128 random bits in base64url: safe in a header, an attribute and a pattern. */
function nonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/**
 * Every response: `nosniff` and a referrer policy; pages: a CSP and a
 * permissions policy; the API, `/sdk.js` and `/sdk.d.ts`: CORS by
 * `ALLOWED_ORIGINS` (preflights answered here); `/sdk.js` names its types
 * in `X-TypeScript-Types`. A WebSocket upgrade passes through untouched:
 * the hub checks its origin itself.
 */
export async function handler(req: Request, ctx: FreshContext): Promise<Response> {
  const cors = isCrossOriginApi(ctx.url.pathname);
  if (cors) {
    const answer = preflight(req, allowedOrigins);
    if (answer) return answer;
  }
  const cspNonce = nonce();
  ctx.state.cspNonce = cspNonce;
  const res = await ctx.next();
  if (res.status === 101) return res;
  const headers = new Headers(res.headers);
  headers.set("x-content-type-options", "nosniff");
  headers.set("referrer-policy", "strict-origin-when-cross-origin");
  // Deno and editors type `import … from "https://host/sdk.js"` from this.
  if (ctx.url.pathname === SDK_JS && res.ok) headers.set("x-typescript-types", SDK_TYPES);
  if (headers.get("content-type")?.startsWith("text/html")) {
    headers.set("content-security-policy", contentSecurityPolicy(cspNonce, ctx.url));
    headers.set("permissions-policy", PERMISSIONS_POLICY);
  }
  if (cors) {
    for (const [name, value] of corsHeaders(req, allowedOrigins)) {
      if (name === "vary") headers.append(name, value);
      else headers.set(name, value);
    }
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
