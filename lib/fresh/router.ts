/**
 * Turns a manifest into a sorted route table and matches URLs against it.
 * Pure: no I/O, no rendering.
 *
 * @module
 */
import type { ComponentType } from "preact";
import type { Handler, Handlers, Manifest, MiddlewareHandler, RouteModule } from "./types.ts";

/** Methods a `Handlers` object may define: the single source of the union. */
export const KNOWN_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
] as const;

/**
 * One of {@linkcode KNOWN_METHODS}.
 *
 * @example Usage
 * ```ts
 * import type { KnownMethod } from "$fresh/router.ts";
 * const m: KnownMethod = "GET";
 * ```
 */
export type KnownMethod = typeof KNOWN_METHODS[number];

/**
 * One page or endpoint.
 *
 * @example Usage
 * ```ts
 * import type { Route } from "$fresh/router.ts";
 * const pathOf = (r: Route) => r.pattern;
 * ```
 */
export interface Route {
  /** URLPattern pathname, e.g. `/room/:name`. */
  pattern: string;
  urlPattern: URLPattern;
  /** Manifest key, e.g. `./routes/room/[name].tsx`. */
  file: string;
  // deno-lint-ignore no-explicit-any
  component?: ComponentType<any>;
  /** One function for every method, or one per method. */
  handler?: Handler | Handlers;
}

/**
 * The route table of a manifest.
 *
 * @example Usage
 * ```ts
 * import { buildRouter } from "$fresh/router.ts";
 * const router = buildRouter({ routes: {}, islands: {}, baseUrl: import.meta.url });
 * console.log(router.routes.length); // 0
 * ```
 */
export interface Router {
  /** Static routes first, then dynamic, then rest routes. */
  routes: Route[];
  /** `_middleware` handlers by folder prefix (`/`, `/api/`), outermost first. */
  middlewares: { prefix: string; handlers: MiddlewareHandler[] }[];
  // deno-lint-ignore no-explicit-any
  app?: ComponentType<any>;
  notFound?: Route;
  error?: Route;
}

/**
 * The URLPattern pathname of a route file, e.g. `./routes/room/[name].tsx` →
 * `/room/:name` and `./routes/docs/[...path].tsx` → `/docs/:path*`.
 *
 * @example Usage
 * ```ts
 * import { pathToPattern } from "$fresh/router.ts";
 * pathToPattern("./routes/index.tsx"); // "/"
 * ```
 */
export function pathToPattern(file: string): string {
  const parts = file.replace(/^\.\/routes\//, "").replace(/\.[jt]sx?$/, "")
    .split("/");
  if (parts.at(-1) === "index") parts.pop();
  const segments = parts.map((part) => {
    const rest = part.match(/^\[\.\.\.(\w+)\]$/);
    if (rest) return `:${rest[1]}*`;
    const param = part.match(/^\[(\w+)\]$/);
    if (param) return `:${param[1]}`;
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

/**
 * Orders patterns so the most specific wins: segment by segment, static
 * before dynamic before rest; ties (patterns that cannot overlap) by text, so
 * the order is total and independent of the manifest's order.
 *
 * @example Usage
 * ```ts
 * import { comparePatterns } from "$fresh/router.ts";
 * ["/:a", "/new"].sort(comparePatterns); // ["/new", "/:a"]
 * ```
 */
export function comparePatterns(a: string, b: string): number {
  const as = a.split("/"), bs = b.split("/");
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = rank(as[i]) - rank(bs[i]);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the route table of a manifest. Throws when a file cannot be routed.
 *
 * @example Usage
 * ```ts
 * import { buildRouter } from "$fresh/router.ts";
 * const router = buildRouter({
 *   routes: { "./routes/index.tsx": { default: () => null } },
 *   islands: {},
 *   baseUrl: import.meta.url,
 * });
 * console.log(router.routes[0].pattern); // "/"
 * ```
 */
export function buildRouter(manifest: Manifest): Router {
  const router: Router = { routes: [], middlewares: [] };
  for (const [file, mod] of Object.entries(manifest.routes)) {
    const name = file.replace(/\.[jt]sx?$/, "");
    const base = name.split("/").at(-1)!;
    if (base === "_middleware") {
      const h = mod.handler;
      const prefix = pathToPattern(name.slice(0, -"_middleware".length))
        .replace(/\/?$/, "/");
      router.middlewares.push({
        prefix,
        handlers: (Array.isArray(h) ? h : [h]) as MiddlewareHandler[],
      });
    } else if (name === "./routes/_app") {
      router.app = mod.default;
    } else if (name === "./routes/_404") {
      router.notFound = toRoute(file, "", mod);
    } else if (name === "./routes/_500") {
      router.error = toRoute(file, "", mod);
    } else {
      const pattern = mod.config?.routeOverride ?? pathToPattern(file);
      router.routes.push(toRoute(file, pattern, mod));
    }
  }
  router.routes.sort((a, b) => comparePatterns(a.pattern, b.pattern));
  router.middlewares.sort((a, b) => a.prefix.length - b.prefix.length);
  return router;
}

function toRoute(file: string, pattern: string, mod: RouteModule): Route {
  return {
    pattern,
    urlPattern: new URLPattern({ pathname: pattern || "/" }),
    file,
    component: mod.default,
    handler: mod.handler as Handler | Handlers | undefined,
  };
}

/**
 * The first route matching `url`, with its decoded params.
 *
 * @example Usage
 * ```ts
 * import { buildRouter, matchRoute } from "$fresh/router.ts";
 * const router = buildRouter({
 *   routes: { "./routes/room/[name].tsx": { default: () => null } },
 *   islands: {},
 *   baseUrl: import.meta.url,
 * });
 * matchRoute(router, new URL("http://x/room/a%20b"))?.params; // { name: "a b" }
 * ```
 */
export function matchRoute(
  router: Router,
  url: URL,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of router.routes) {
    const match = route.urlPattern.exec({ pathname: url.pathname });
    if (!match) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(match.pathname.groups)) {
      if (v === undefined) continue;
      try {
        params[k] = decodeURIComponent(v);
      } catch {
        params[k] = v; // malformed escapes stay as sent; the page validates
      }
    }
    return { route, params };
  }
}

/**
 * The middlewares whose folder contains `pathname`, outermost first.
 *
 * @example Usage
 * ```ts
 * import { buildRouter, middlewaresFor } from "$fresh/router.ts";
 * const router = buildRouter({ routes: {}, islands: {}, baseUrl: import.meta.url });
 * middlewaresFor(router, "/api/health").length; // 0
 * ```
 */
export function middlewaresFor(
  router: Router,
  pathname: string,
): MiddlewareHandler[] {
  const path = pathname.endsWith("/") ? pathname : pathname + "/";
  return router.middlewares.filter((m) => path.startsWith(m.prefix))
    .flatMap((m) => m.handlers);
}

/**
 * The handler for `method`, or `undefined` when the route does not allow it.
 * A page without a handler answers GET and HEAD; HEAD falls back to GET (the
 * caller drops the body).
 *
 * @example Usage
 * ```ts
 * import { methodHandler } from "$fresh/router.ts";
 * const route = { pattern: "/", urlPattern: new URLPattern({ pathname: "/" }), file: "" };
 * methodHandler(route, "GET", () => new Response("page")); // undefined: no page, no handler
 * ```
 */
export function methodHandler(
  route: Route,
  method: string,
  renderPage: Handler,
): Handler | undefined {
  const h = route.handler;
  if (typeof h === "function") return h;
  const handlers: Handlers = h ?? (route.component ? { GET: renderPage } : {});
  if (method === "HEAD") return handlers.HEAD ?? handlers.GET;
  return handlers[method as KnownMethod];
}

/**
 * The methods a route answers, for the `Allow` header of a 405.
 *
 * @example Usage
 * ```ts
 * import { allowedMethods } from "$fresh/router.ts";
 * allowedMethods({ pattern: "/", urlPattern: new URLPattern({ pathname: "/" }), file: "" });
 * ```
 */
export function allowedMethods(route: Route): KnownMethod[] {
  if (typeof route.handler === "function") return [...KNOWN_METHODS];
  const h = route.handler ?? (route.component ? { GET: true } : {});
  return KNOWN_METHODS.filter((m) => m in h || (m === "HEAD" && "GET" in h));
}

/**
 * The named default for a method the route does not define: 405 with `Allow`.
 *
 * @example Usage
 * ```ts
 * import { defaultUnknownMethodHandler } from "$fresh/router.ts";
 * defaultUnknownMethodHandler(["GET", "HEAD"]).status; // 405
 * ```
 */
export function defaultUnknownMethodHandler(allowed: KnownMethod[]): Response {
  return new Response("Method Not Allowed", {
    status: 405,
    headers: { Allow: allowed.join(", ") },
  });
}
