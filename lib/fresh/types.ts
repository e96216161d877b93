/**
 * Types of the Fresh 1.x stand-in, grouped under banners as in Fresh's own
 * `src/server/types.ts`. Only types live here: no runtime code.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import type { ComponentChildren, ComponentType } from "preact";
import type { KnownMethod } from "./router.ts";

export type { KnownMethod };

// --- MANIFEST ---

/**
 * A route module: a page component, a handler, or both (or `_middleware`).
 *
 * @example Usage
 * ```ts
 * import type { RouteModule } from "$fresh/server.ts";
 * const mod: RouteModule = { handler: () => new Response("ok") };
 * ```
 */
export interface RouteModule {
  default?: ComponentType<any>;
  handler?: Handler<any, any> | Handlers<any, any> | MiddlewareHandler<any>[];
  config?: RouteConfig;
}

/**
 * An island module: its default export is hydrated in the browser.
 *
 * @example Usage
 * ```ts
 * import type { IslandModule } from "$fresh/server.ts";
 * const mod: IslandModule = { default: () => null };
 * ```
 */
export interface IslandModule {
  default: ComponentType<any>;
}

/**
 * The generated `fresh.gen.ts`: route and island modules keyed by their path
 * relative to `baseUrl`.
 *
 * @example Usage
 * ```ts
 * import type { Manifest } from "$fresh/server.ts";
 * const manifest: Manifest = { routes: {}, islands: {}, baseUrl: import.meta.url };
 * ```
 */
export interface Manifest {
  routes: Record<string, RouteModule>;
  islands: Record<string, IslandModule>;
  baseUrl: string;
}

// --- CONFIG ---

/**
 * Options of `start` and `createHandler`. Every field is optional.
 *
 * @example Usage
 * ```ts
 * import { defineConfig } from "$fresh/server.ts";
 * export default defineConfig({ build: { entries: { sdk: "./lib/sdk/browser.ts" } } });
 * ```
 */
export interface FreshConfig {
  /** Port of `start`. @default Number(Deno.env.get("PORT") ?? 8000) */
  port?: number;
  /** Hostname of `start`. @default "0.0.0.0" */
  hostname?: string;
  /** Folder of static files, relative to the manifest's folder. @default "static" */
  staticDir?: string;
  /**
   * Serve HTTPS (and WSS) with this PEM certificate chain and private key,
   * paths relative to the manifest's folder. `start` and `dev` honour it;
   * `deno serve` (cluster) cannot: terminate TLS in front of it.
   * @default undefined (plain HTTP)
   */
  tls?: { certFile: string; keyFile: string };
  /** Client build options. */
  build?: {
    /** Output folder, relative to the manifest's folder. @default "_fresh" */
    outDir?: string;
    /**
     * Extra standalone bundles, name → module path relative to the manifest's
     * folder. Each is bundled without code splitting and served at
     * `/<name>.js`. @default {}
     */
    entries?: Record<string, string>;
    /** Minify client bundles. @default true */
    minify?: boolean;
    /**
     * The app's own build steps, run by `dev.ts build` after the bundles
     * are written; what they write to `staticOutDir` is served like
     * `static/` (which wins on a clash). @default []
     */
    steps?: BuildStep[];
  };
}

/**
 * One build step of {@linkcode FreshConfig}'s `build.steps`: writes files
 * (generated docs, type declarations…) under `staticOutDir`.
 *
 * @example Usage
 * ```ts
 * import type { BuildStep } from "$fresh/server.ts";
 * const hello: BuildStep = ({ staticOutDir }) =>
 *   Deno.writeTextFile(`${staticOutDir}/hello.txt`, "hi");
 * ```
 */
export type BuildStep = (context: {
  /** The project folder. */
  rootDir: string;
  /** `<outDir>/static`, created and empty. */
  staticOutDir: string;
}) => Promise<void>;

/**
 * {@linkcode FreshConfig} with every default applied and every path absolute.
 *
 * @example Usage
 * ```ts
 * import type { ResolvedFreshConfig } from "$fresh/server.ts";
 * const port = (c: ResolvedFreshConfig) => c.port;
 * ```
 */
export interface ResolvedFreshConfig {
  port: number;
  hostname: string;
  /** Folder of the manifest (the project root). */
  rootDir: string;
  staticDir: string;
  /** Absolute paths of the certificate and key, or null for plain HTTP. */
  tls: { certFile: string; keyFile: string } | null;
  build: {
    outDir: string;
    entries: Record<string, string>;
    minify: boolean;
    steps: BuildStep[];
  };
}

// --- CONTEXT ---

/**
 * What every handler and middleware receives besides the request.
 *
 * @example Usage
 * ```ts
 * import type { FreshContext } from "$fresh/server.ts";
 * const handler = (_req: Request, ctx: FreshContext) => ctx.render({ at: ctx.url.pathname });
 * ```
 */
export interface FreshContext<State = Record<string, unknown>, Data = any> {
  /** The request URL, parsed. */
  url: URL;
  /** Decoded route parameters, e.g. `{ name: "abc" }` for `/room/:name`. */
  params: Record<string, string>;
  /** The matched route pattern, e.g. `/room/:name` (`""` when none matched). */
  route: string;
  /**
   * Shared by every middleware and the handler of one request. A
   * `cspNonce` set here goes on the renderer's inline boot script.
   */
  state: State;
  /** The address of the client. */
  remoteAddr: Deno.NetAddr;
  /** The connection info `Deno.serve` passed in. */
  info: Deno.ServeHandlerInfo;
  /** The config resolved at startup. */
  config: ResolvedFreshConfig;
  /** Data passed to `render`, once called. */
  data: Data;
  /** Render this route's page with `data` in its props. */
  render(data?: Data, init?: ResponseInit): Promise<Response>;
  /** Render the `_404` page with status 404. */
  renderNotFound(data?: unknown): Promise<Response>;
  /** Run the next middleware, or the route itself. */
  next(): Promise<Response>;
}

/**
 * The Fresh 1.0 name of {@linkcode FreshContext}.
 *
 * @deprecated Use {@linkcode FreshContext}.
 * @example Usage
 * ```ts
 * import type { HandlerContext } from "$fresh/server.ts";
 * const h = (_req: Request, ctx: HandlerContext) => ctx.next();
 * ```
 */
export type HandlerContext<Data = any, State = Record<string, unknown>> = FreshContext<State, Data>;

// --- ROUTES ---

/**
 * Props of a page component.
 *
 * @example Usage
 * ```tsx
 * import type { PageProps } from "$fresh/server.ts";
 * export default function Page({ params }: PageProps) { return <p>{params.name}</p>; }
 * ```
 */
export interface PageProps<Data = any, State = Record<string, unknown>> {
  url: URL;
  route: string;
  params: Record<string, string>;
  state: State;
  data: Data;
}

/**
 * Props of `_404.tsx`.
 *
 * @example Usage
 * ```tsx
 * import type { UnknownPageProps } from "$fresh/server.ts";
 * export default function NotFound({ url }: UnknownPageProps) { return <p>{url.pathname}</p>; }
 * ```
 */
export type UnknownPageProps<Data = any, State = Record<string, unknown>> = PageProps<Data, State>;

/**
 * Props of `_500.tsx`: the page props plus what was thrown.
 *
 * @example Usage
 * ```tsx
 * import type { ErrorPageProps } from "$fresh/server.ts";
 * export default function Oops({ error }: ErrorPageProps) { return <p>{String(error)}</p>; }
 * ```
 */
export interface ErrorPageProps extends PageProps {
  error: unknown;
}

/**
 * Props of `_app.tsx`: the page props plus the page itself as `Component`.
 *
 * @example Usage
 * ```tsx
 * import type { AppProps } from "$fresh/server.ts";
 * export default function App({ Component }: AppProps) { return <body><Component /></body>; }
 * ```
 */
export interface AppProps<Data = any, State = Record<string, unknown>>
  extends PageProps<Data, State> {
  Component: ComponentType<Record<never, never>>;
}

/**
 * Handles one request for a route.
 *
 * @example Usage
 * ```ts
 * import type { Handler } from "$fresh/server.ts";
 * export const handler: Handler = () => Response.json({ ok: true });
 * ```
 */
export type Handler<Data = any, State = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<State, Data>,
) => Response | Promise<Response>;

/**
 * One handler per HTTP method; methods left out answer 405.
 *
 * @example Usage
 * ```ts
 * import type { Handlers } from "$fresh/server.ts";
 * export const handler: Handlers = { GET: (_req, ctx) => ctx.render() };
 * ```
 */
export type Handlers<Data = any, State = Record<string, unknown>> = {
  [M in KnownMethod]?: Handler<Data, State>;
};

/**
 * Per-route options, exported as `config` from a route module.
 *
 * @example Usage
 * ```ts
 * import type { RouteConfig } from "$fresh/server.ts";
 * export const config: RouteConfig = { routeOverride: "/r/:name" };
 * ```
 */
export interface RouteConfig {
  /** A URLPattern pathname used instead of the one derived from the file path. */
  routeOverride?: string;
}

/**
 * A `_middleware.ts` handler: runs before the routes below its folder and
 * calls `ctx.next()` to continue.
 *
 * @example Usage
 * ```ts
 * import type { MiddlewareHandler } from "$fresh/server.ts";
 * export const handler: MiddlewareHandler = async (_req, ctx) => {
 *   const res = await ctx.next();
 *   res.headers.set("x-seen", "1");
 *   return res;
 * };
 * ```
 */
export type MiddlewareHandler<State = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<State>,
) => Response | Promise<Response>;

// --- ISLANDS ---

/**
 * Children of `<Head>`, collected while a page renders.
 *
 * @example Usage
 * ```ts
 * import type { HeadCollector } from "$fresh/server.ts";
 * const collected: HeadCollector = [];
 * ```
 */
export type HeadCollector = ComponentChildren[];
