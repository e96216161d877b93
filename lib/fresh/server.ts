/**
 * `$fresh/server.ts`: the app's request handler, or a server, and its config.
 * Routes, static files and the client build are loaded once, at creation.
 *
 * @module
 */
import type { ComponentType } from "preact";
import { build, BUILD_STATIC_DIR, readBuild, resolveConfig } from "./build.ts";
import { renderPage } from "./render.ts";
import { buildRouter, routeFor } from "./router.ts";
import { islandId, setBuildId } from "./runtime.ts";
import { staticHandler } from "./static.ts";
import type { FreshConfig, FreshContext, Handler, Manifest } from "./types.ts";

export type * from "./types.ts";

/**
 * Types a config object; returns it unchanged.
 *
 * @example Usage
 * ```ts
 * import { defineConfig } from "$fresh/server.ts";
 * export default defineConfig({ server: { port: 8000 } });
 * ```
 */
export function defineConfig(config: FreshConfig): FreshConfig {
  return config;
}

const LOOPBACK_INFO = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
  completed: Promise.resolve(),
} as Deno.ServeHandlerInfo;

/**
 * The client build in `outDir`, or (when it is missing or lacks an island)
 * one bundled in memory: a slower start. Throws at once when neither can be
 * had, so a missing page script never waits for the first visitor.
 */
async function loadClientBuild(manifest: Manifest, config: ReturnType<typeof resolveConfig>) {
  const { rootDir, build: { outDir, entries } } = config;
  const keys = Object.keys(manifest.islands);
  const written = await readBuild(outDir);
  const missing = keys.filter((k) => !written?.islands[islandId(k)]);
  if (written && missing.length === 0) return written;
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
  return await build({ rootDir, islands: keys, entries });
}

/**
 * Creates the app's request handler; `info` defaults to a loopback address so
 * tests may call it directly.
 *
 * @throws {SyntaxError} when a route file name cannot be routed
 * @example Usage
 * ```ts ignore
 * import { createHandler } from "$fresh/server.ts";
 * import manifest from "./fresh.gen.ts";
 * const res = await (await createHandler(manifest))(new Request("http://localhost/"));
 * ```
 */
export async function createHandler(
  manifest: Manifest,
  config: FreshConfig = {},
): Promise<(req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>> {
  const resolved = resolveConfig(manifest.baseUrl, config);
  const router = buildRouter(manifest);
  const client = await loadClientBuild(manifest, resolved);
  setBuildId(client.buildId);
  // `static/` wins a clash with what the app's build steps wrote.
  const dirs = [resolved.staticDir, `${resolved.build.outDir}/${BUILD_STATIC_DIR}`];
  const serveStatic = await staticHandler(dirs, client);

  const page = (
    // deno-lint-ignore no-explicit-any
    component: ComponentType<any>,
    { url, route, params, state, data }: FreshContext,
    init: ResponseInit = {},
  ) => {
    const props = { url, route, params, state, data };
    const html = renderPage({
      page: component,
      props,
      app: router.app,
      islands: manifest.islands,
      build: client,
    });
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
    return new Response(html, { ...init, headers });
  };
  const renderRoute: Handler = (_req, ctx) => ctx.render();

  return async (req, info = LOOPBACK_INFO) => {
    const url = new URL(req.url);
    const { route, params, middlewares, handler } = routeFor(router, url, req.method, renderRoute);
    const ctx: FreshContext = {
      url,
      params,
      route: route?.pattern ?? "",
      state: {},
      remoteAddr: info.remoteAddr as Deno.NetAddr,
      info,
      data: undefined,
      render: (data, init) => {
        ctx.data = data;
        if (route?.component) return Promise.resolve(page(route.component, ctx, init));
        const what = route?.file ?? url.pathname;
        throw new Error(`Cannot render ${what} as it has no default export (page component)`);
      },
      renderNotFound: (data) => {
        ctx.data = data;
        const notFound = router.notFound && page(router.notFound, ctx, { status: 404 });
        return Promise.resolve(notFound ?? new Response("Not Found", { status: 404 }));
      },
      next: async () => {
        const middleware = middlewares.shift();
        if (middleware) return await middleware(req, ctx);
        const file = serveStatic(req);
        if (file) return await file;
        return await (route ? handler(req, ctx) : ctx.renderNotFound());
      },
    };
    let res: Response;
    try {
      res = await ctx.next();
    } catch (error) {
      console.error(`Error while handling ${url.pathname}:`, error);
      res = new Response("Internal Server Error", { status: 500 });
    }
    if (req.method !== "HEAD" || res.body === null) return res;
    await res.body.cancel();
    return new Response(null, res);
  };
}

/**
 * Serves the app with `Deno.serve` on `config.server` until it shuts down.
 *
 * @example Usage
 * ```ts ignore
 * import { start } from "$fresh/server.ts";
 * import manifest from "./fresh.gen.ts";
 * await start(manifest, { server: { port: 8000 } });
 * ```
 */
export async function start(manifest: Manifest, config: FreshConfig = {}): Promise<void> {
  await Deno.serve(config.server ?? {}, await createHandler(manifest, config)).finished;
}
