/**
 * The types of routes, islands and `fresh.config.ts`; no runtime code.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import type { ComponentType } from "preact";
import type { KNOWN_METHODS } from "./router.ts";

/**
 * The generated `fresh.gen.ts`: modules keyed by their path relative to `baseUrl`.
 *
 * @example Usage
 * ```ts
 * import type { Manifest } from "$fresh/server.ts";
 * const manifest: Manifest = { routes: {}, islands: {}, baseUrl: import.meta.url };
 * ```
 */
export interface Manifest {
  /** A page component, a handler, or both (or `_middleware`'s handlers). */
  routes: Record<string, {
    default?: ComponentType<any>;
    handler?: Handler<any, any> | Handlers<any, any> | MiddlewareHandler<any>[];
  }>;
  /** Each default export is hydrated in the browser. */
  islands: Record<string, { default: ComponentType<any> }>;
  baseUrl: string;
}

/**
 * Options of `start`, `createHandler` and `dev`; paths are relative to the manifest's folder.
 *
 * @example Usage
 * ```ts
 * import { defineConfig } from "$fresh/server.ts";
 * export default defineConfig({ server: { port: 8000 }, build: { entries: { sdk: "./sdk.ts" } } });
 * ```
 */
export interface FreshConfig {
  /** `Deno.serve`'s options for `start` and `dev` (port, hostname, cert and key, onListen). */
  server?: Partial<Deno.ServeTcpOptions & Deno.TlsCertifiedKeyPem>;
  /** @default "static" */
  staticDir?: string;
  build?: {
    /** @default "_fresh" */
    outDir?: string;
    /** Extra standalone bundles, name → module path, served at `/<name>.js`. @default {} */
    entries?: Record<string, string>;
    /** Run by `dev.ts build`. @default [] */
    steps?: BuildStep[];
  };
}

/**
 * One of `build.steps`: what it writes to `staticOutDir` (`<outDir>/static`,
 * created empty) is served like `static/`, which wins a clash.
 *
 * @example Usage
 * ```ts
 * import type { BuildStep } from "$fresh/server.ts";
 * const hello: BuildStep = ({ staticOutDir }) => Deno.writeTextFile(`${staticOutDir}/hi.txt`, "hi");
 * ```
 */
export type BuildStep = (context: { rootDir: string; staticOutDir: string }) => Promise<void>;

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
  url: URL;
  /** Decoded route parameters, e.g. `{ name: "abc" }` for `/room/:name`. */
  params: Record<string, string>;
  /** The matched route pattern, e.g. `/room/:name` (`""` when none matched). */
  route: string;
  /** Shared by the middlewares and the handler of one request; a `cspNonce` goes on the boot script. */
  state: State;
  remoteAddr: Deno.NetAddr;
  /** What `Deno.serve` passed in. */
  info: Deno.ServeHandlerInfo;
  /** What `render` was given. */
  data: Data;
  render(data?: Data, init?: ResponseInit): Promise<Response>;
  /** Renders the `_404` page with status 404. */
  renderNotFound(data?: unknown): Promise<Response>;
  /** Runs the next middleware, or the route itself. */
  next(): Promise<Response>;
}

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
  [M in typeof KNOWN_METHODS[number]]?: Handler<Data, State>;
};

/**
 * A `_middleware.ts` handler: runs before the routes below its folder.
 *
 * @example Usage
 * ```ts
 * import type { MiddlewareHandler } from "$fresh/server.ts";
 * export const handler: MiddlewareHandler = (_req, ctx) => ctx.next();
 * ```
 */
export type MiddlewareHandler<State = Record<string, unknown>> = Handler<any, State>;
