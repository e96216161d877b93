/**
 * Wires router, renderer, islands and static files into one request handler.
 * Everything is loaded once, when the handler is created.
 *
 * @module
 */
import type { ComponentType } from "preact";
import { build, BUILD_STATIC_DIR, readBuild, toStaticFiles } from "./build.ts";
import { resolveConfig } from "./config.ts";
import { islandId, registerIslands } from "./islands.ts";
import { renderPage } from "./render.ts";
import {
  allowedMethods,
  buildRouter,
  matchRoute,
  methodHandler,
  middlewaresFor,
  type Route,
  type Router,
} from "./router.ts";
import { setBuildId } from "./runtime.ts";
import { scanStaticDir, serveStatic, type StaticSources } from "./static.ts";
import type { ClientBuild } from "./render.ts";
import type { FreshConfig, FreshContext, Manifest, PageProps } from "./types.ts";

/**
 * The request handler `createHandler` returns; `info` defaults to a loopback
 * address so tests may call it directly.
 *
 * @example Usage
 * ```ts
 * import type { RequestHandler } from "$fresh/server.ts";
 * const ok: RequestHandler = () => Promise.resolve(new Response("ok"));
 * ```
 */
export type RequestHandler = (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;

const LOOPBACK_INFO = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
  completed: Promise.resolve(),
} as Deno.ServeHandlerInfo;

type ResolvedConfig = ReturnType<typeof resolveConfig>;

/**
 * Loads the client build from `config.build.outDir`, or — when it is missing
 * or lacks an island of the manifest — bundles in memory (slower startup; run
 * `deno task build` ahead of time in production). Throws at once when there
 * is no complete build and the runtime has no `Deno.bundle`.
 */
async function loadClientBuild(manifest: Manifest, config: ResolvedConfig) {
  const keys = Object.keys(manifest.islands);
  const written = await readBuild(config.build.outDir);
  const missing = keys.filter((k) => !written?.islands[islandId(k)]);
  if (written && missing.length === 0) return written;
  const outDir = config.build.outDir;
  // Without Deno.bundle (an unstable API: `"unstable": ["bundle"]`) there is
  // no way to make the bundles here: say so at once, not at the first page.
  if (typeof (Deno as { bundle?: unknown }).bundle !== "function") {
    throw new Error(
      `Cannot start as there is no complete client build in ${outDir} and this runtime cannot ` +
        `bundle (Deno.bundle is unavailable): run \`deno task build\` before starting ` +
        `(on Deno Deploy: the build command)`,
    );
  }
  console.warn(
    written
      ? `Client build is stale (missing ${missing.join(", ")}); rebuilding in memory`
      : `No client build in ${outDir}: bundling in memory (run \`deno task build\` ahead of time for a faster start)`,
  );
  const { rootDir, build: { entries, minify } } = config;
  return await build({ rootDir, islands: keys, entries, minify });
}

/**
 * Creates the app's request handler: config resolved, routes built, static
 * files listed and the client build loaded, all once.
 *
 * @throws {SyntaxError} when a route file name cannot be routed
 * @example Usage
 * ```ts ignore
 * import { createHandler } from "$fresh/server.ts";
 * import manifest from "./fresh.gen.ts";
 * const handler = await createHandler(manifest);
 * const res = await handler(new Request("http://localhost/"));
 * ```
 */
export async function createHandler(
  manifest: Manifest,
  config: FreshConfig = {},
): Promise<RequestHandler> {
  const resolved = resolveConfig(manifest.baseUrl, config);
  const router = buildRouter(manifest);
  registerIslands(manifest.islands);
  const client = await loadClientBuild(manifest, resolved);
  setBuildId(client.buildId);
  const staticFiles = await scanStaticDir(resolved.staticDir);
  // What the app's build steps wrote; `static/` wins on a clash.
  for (const [path, file] of await scanStaticDir(`${resolved.build.outDir}/${BUILD_STATIC_DIR}`)) {
    if (!staticFiles.has(path)) staticFiles.set(path, file);
  }
  for (const [path, file] of await toStaticFiles(client.entries, ".js", "/")) {
    staticFiles.set(path, file);
  }
  const sources: StaticSources = {
    buildId: client.buildId,
    staticFiles,
    buildFiles: await toStaticFiles(client.files),
  };
  const app = new App(router, sources, client);
  return (req, info = LOOPBACK_INFO) => app.handle(req, info);
}

class App {
  #router: Router;
  #sources: StaticSources;
  #client: ClientBuild;

  constructor(router: Router, sources: StaticSources, client: ClientBuild) {
    this.#router = router;
    this.#sources = sources;
    this.#client = client;
  }

  async handle(req: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
    const url = new URL(req.url);
    const match = matchRoute(this.#router, url);
    const middlewares = middlewaresFor(this.#router, url.pathname);
    const ctx: FreshContext = {
      url,
      params: match?.params ?? {},
      route: match?.route.pattern ?? "",
      state: {},
      remoteAddr: info.remoteAddr as Deno.NetAddr,
      info,
      data: undefined,
      render: (data, init) => {
        ctx.data = data;
        if (!match?.route.component) {
          throw new Error(
            `Cannot render ${
              match?.route.file ?? url.pathname
            } as it has no default export (page component)`,
          );
        }
        return Promise.resolve(this.#page(match.route.component, ctx, {}, init));
      },
      renderNotFound: (data) => {
        ctx.data = data;
        const page = this.#router.notFound?.component;
        if (!page) return Promise.resolve(new Response("Not Found", { status: 404 }));
        return Promise.resolve(this.#page(page, ctx, {}, { status: 404 }));
      },
      next: () => {
        const middleware = middlewares.shift();
        return middleware
          ? Promise.resolve(middleware(req, ctx))
          : this.#route(req, ctx, match?.route);
      },
    };
    let res: Response;
    try {
      res = await ctx.next();
    } catch (error) {
      res = this.#error(ctx, error);
    }
    if (req.method !== "HEAD" || res.body === null) return res;
    await res.body.cancel();
    return new Response(null, res);
  }

  async #route(req: Request, ctx: FreshContext, route?: Route): Promise<Response> {
    const file = serveStatic(req, this.#sources);
    if (file) return await file;
    if (!route) return await ctx.renderNotFound();
    const handler = methodHandler(route, req.method, (_req, c) => c.render());
    if (!handler) {
      const headers = { Allow: allowedMethods(route).join(", ") };
      return new Response("Method Not Allowed", { status: 405, headers });
    }
    return await handler(req, ctx);
  }

  #page(
    page: ComponentType<PageProps>,
    ctx: FreshContext,
    extra: Record<string, unknown>,
    init: ResponseInit = {},
  ): Response {
    const { url, route, params, state, data } = ctx;
    const html = renderPage({
      page,
      props: { url, route, params, state, data, ...extra },
      app: this.#router.app,
      build: this.#client,
    });
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
    return new Response(html, { ...init, headers });
  }

  /** Answers with `_500` (or plain text when it is missing or throws too). */
  #error(ctx: FreshContext, error: unknown): Response {
    console.error(`Error while handling ${ctx.url.pathname}:`, error);
    const page = this.#router.error?.component;
    if (page) {
      try {
        return this.#page(page, ctx, { error }, { status: 500 });
      } catch (again) {
        console.error("The _500 page failed as well:", again);
      }
    }
    return new Response("Internal Server Error", { status: 500 });
  }
}
