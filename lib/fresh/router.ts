/**
 * A manifest's routes, sorted, and what answers a request (no I/O).
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import type { ComponentType } from "preact";
import type { Handler, Handlers, Manifest, MiddlewareHandler } from "./types.ts";

/** The methods a `Handlers` object may define: the single source of their union. */
export const KNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"] as const;

/**
 * One page or endpoint: its URLPattern pathname (`/room/:name`), manifest key
 * (`./routes/room/[name].tsx`), page component and handler(s).
 *
 * @example Usage
 * ```ts
 * import type { Route } from "$fresh/router.ts";
 * const pathOf = (r: Route) => r.pattern;
 * ```
 */
export interface Route {
  pattern: string;
  urlPattern: URLPattern;
  file: string;
  component?: ComponentType<any>;
  handler?: Handler | Handlers;
}

/**
 * A manifest's routes (most specific first), `_middleware` handlers by folder
 * (`/`, `/api/`; outermost first) and special pages.
 *
 * @example Usage
 * ```ts
 * import type { Router } from "$fresh/router.ts";
 * const count = (r: Router) => r.routes.length;
 * ```
 */
export interface Router {
  routes: Route[];
  middlewares: { prefix: string; handlers: MiddlewareHandler[] }[];
  app?: ComponentType<any>;
  notFound?: ComponentType<any>;
}

/** `./routes/room/[name].tsx` → `/room/:name`, `./routes/docs/[...path].tsx` → `/docs/:path*`. */
function pathToPattern(file: string): string {
  const parts = file.replace(/^\.\/routes\//, "").replace(/\.[jt]sx?$/, "").split("/");
  if (parts.at(-1) === "index") parts.pop();
  const segments = parts.map((part) => {
    const param = part.match(/^\[(\.\.\.)?(\w+)\]$/);
    if (param) return `:${param[2]}${param[1] ? "*" : ""}`;
    if (/[[\]]/.test(part)) {
      throw new SyntaxError(
        `Cannot route ${file} as brackets must wrap a whole segment: current segment is "${part}"`,
      );
    }
    return part;
  });
  return "/" + segments.join("/");
}

/** 0 for a static segment, 1 for a `:param`, 2 for a `:rest*`; the end of a
 * pattern ranks between (1.5): `/docs` must beat `/docs/:path*`. */
function rank(segment: string | undefined): number {
  if (segment === undefined) return 1.5;
  return segment.endsWith("*") ? 2 : segment.startsWith(":") ? 1 : 0;
}

/** Most specific first, segment by segment; ties by text, so no order depends on the manifest's. */
function comparePatterns(a: string, b: string): number {
  const as = a.split("/"), bs = b.split("/");
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = rank(as[i]) - rank(bs[i]);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the route table of a manifest.
 *
 * @throws {SyntaxError} when a file cannot be routed
 * @example Usage
 * ```ts
 * import { buildRouter } from "$fresh/router.ts";
 * buildRouter({ routes: {}, islands: {}, baseUrl: import.meta.url }).routes; // []
 * ```
 */
export function buildRouter(manifest: Manifest): Router {
  const router: Router = { routes: [], middlewares: [] };
  for (const [file, mod] of Object.entries(manifest.routes)) {
    const name = file.replace(/\.[jt]sx?$/, "");
    if (name.endsWith("/_middleware")) {
      const prefix = pathToPattern(name.slice(0, -"_middleware".length)).replace(/\/?$/, "/");
      const handlers = [mod.handler].flat() as MiddlewareHandler[];
      router.middlewares.push({ prefix, handlers });
    } else if (name === "./routes/_app") router.app = mod.default;
    else if (name === "./routes/_404") router.notFound = mod.default;
    else {
      const pattern = pathToPattern(file), urlPattern = new URLPattern({ pathname: pattern });
      const handler = mod.handler as Handler | Handlers | undefined;
      router.routes.push({ pattern, urlPattern, file, component: mod.default, handler });
    }
  }
  router.routes.sort((a, b) => comparePatterns(a.pattern, b.pattern));
  router.middlewares.sort((a, b) => a.prefix.length - b.prefix.length);
  return router;
}

/** A page without a handler answers GET (with `renderPage`) and HEAD; HEAD falls back to GET (the
 * caller drops the body); any other method answers 405 with `Allow`. */
function methodHandler(route: Route | undefined, method: string, renderPage: Handler): Handler {
  if (typeof route?.handler === "function") return route.handler;
  const handlers: Handlers = route?.handler ?? (route?.component ? { GET: renderPage } : {});
  const handler = method === "HEAD"
    ? handlers.HEAD ?? handlers.GET
    : handlers[method as keyof Handlers];
  if (handler) return handler;
  const allow = KNOWN_METHODS.filter((m) => m in handlers || (m === "HEAD" && "GET" in handlers));
  return () =>
    new Response("Method Not Allowed", { status: 405, headers: { Allow: allow.join(", ") } });
}

/**
 * What answers `method` at `url`: the first matching route (if any) with its
 * params decoded (malformed escapes stay as sent: the page validates), the
 * middlewares whose folder contains the path, outermost first, and the
 * route's handler of `method` (see `Handlers`).
 *
 * @example Usage
 * ```ts
 * import { buildRouter, routeFor } from "$fresh/router.ts";
 * const router = buildRouter({ routes: {}, islands: {}, baseUrl: import.meta.url });
 * routeFor(router, new URL("http://x/"), "GET", () => new Response("page")).route; // undefined
 * ```
 */
export function routeFor(router: Router, url: URL, method: string, renderPage: Handler): {
  route?: Route;
  params: Record<string, string>;
  middlewares: MiddlewareHandler[];
  handler: Handler;
} {
  const { pathname } = url, dir = pathname.endsWith("/") ? pathname : pathname + "/";
  const route = router.routes.find((r) => r.urlPattern.test({ pathname }));
  const params: Record<string, string> = {};
  const groups = route?.urlPattern.exec({ pathname })?.pathname.groups ?? {};
  for (const [k, v] of Object.entries(groups)) {
    if (v === undefined) continue;
    try {
      params[k] = decodeURIComponent(v);
    } catch {
      params[k] = v;
    }
  }
  const middlewares = router.middlewares.filter((m) => dir.startsWith(m.prefix));
  const handler = methodHandler(route, method, renderPage);
  return { route, params, middlewares: middlewares.flatMap((m) => m.handlers), handler };
}
