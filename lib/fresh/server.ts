/**
 * `$fresh/server.ts`: the app's request handler, or a server, and its config.
 * Routes, static files and the build are loaded once, so no request path
 * (`..`, encoded slashes or backslashes, null bytes) reaches a file not listed.
 *
 * @module
 */
import type { ComponentType } from "preact";
import { build, BUILD_STATIC_DIR, type BuildOutput, readBuild, resolveConfig } from "./build.ts";
import { renderPage } from "./render.ts";
import { buildRouter, routeFor } from "./router.ts";
import { ASSET_CACHE_BUST_KEY, islandId, JS_PREFIX, setBuildId } from "./runtime.ts";
import type { FreshConfig, FreshContext, Handler, Manifest, PageProps } from "./types.ts";

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

const IMMUTABLE = "public, max-age=31536000, immutable";

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  `css text/css; charset=utf-8|gif image/gif|html text/html; charset=utf-8|ico image/x-icon|
  jpeg image/jpeg|jpg image/jpeg|js text/javascript; charset=utf-8|json application/json; charset=utf-8|
  map application/json; charset=utf-8|mjs text/javascript; charset=utf-8|png image/png|
  svg image/svg+xml|ts application/typescript; charset=utf-8|txt text/plain; charset=utf-8|
  wasm application/wasm|webmanifest application/manifest+json|webp image/webp|woff2 font/woff2`
    .split("|").map((row) => row.trim().split(/ (.*)/s).slice(0, 2)),
);

/** A servable file: its type (by extension), a strong etag (a hash of its bytes) and its body. */
interface StaticFile {
  contentType: string;
  etag: string;
  open(): Promise<BodyInit>;
}

async function staticFile(name: string, bytes: Uint8Array<ArrayBuffer>, open: StaticFile["open"]) {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return {
    contentType: CONTENT_TYPES[ext] ?? "application/octet-stream",
    etag: `"${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}"`,
    open,
  };
}

const fromText = (name: string, text: string) =>
  staticFile(name, new TextEncoder().encode(text), () => Promise.resolve(text));

/** Lists the regular files under `dir` (not symlinks) by URL path, unless listed already. */
async function addFolder(files: Map<string, StaticFile>, dir: string, urlDir = "/") {
  const entries = await Array.fromAsync(Deno.readDir(dir)).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  });
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`, url = `${urlDir}${entry.name}`;
    if (entry.isDirectory) await addFolder(files, path, `${url}/`);
    if (!entry.isFile || files.has(url)) continue;
    const open = async () => (await Deno.open(path)).readable;
    files.set(url, await staticFile(entry.name, await Deno.readFile(path), open));
  }
}

/** Answers with `file`: 304 when `If-None-Match` holds its etag, no body for HEAD. */
async function serveFile(req: Request, file: StaticFile, cacheControl: string) {
  const headers = new Headers({ etag: file.etag, "cache-control": cacheControl });
  const match = req.headers.get("if-none-match");
  if (match?.split(",").some((t) => t.trim().replace(/^W\//, "") === file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("content-type", file.contentType);
  return new Response(req.method === "HEAD" ? null : await file.open(), { headers });
}

/**
 * Serves GETs and HEADs from the files of `dirs` (the first folder wins a
 * clash), the build's entries (`/<name>.js`) and bundles, or else answers
 * `undefined`. `/dir/` serves `/dir/index.html`, `/dir` redirects there.
 * Bundles and `asset()` URLs are immutable; the rest must revalidate.
 */
async function staticHandler(
  dirs: string[],
  build: BuildOutput,
): Promise<(req: Request) => Promise<Response> | undefined> {
  const staticFiles = new Map<string, StaticFile>(), buildFiles = new Map<string, StaticFile>();
  for (const dir of dirs) await addFolder(staticFiles, dir);
  for (const [name, js] of Object.entries(build.entries)) {
    staticFiles.set(`/${name}.js`, await fromText(`${name}.js`, js));
  }
  for (const [path, js] of Object.entries(build.files)) {
    buildFiles.set(path, await fromText(path, js));
  }
  const buildPrefix = `${JS_PREFIX}/${build.buildId}/`;
  return (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") return undefined;
    const url = new URL(req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return undefined; // malformed escapes name no file
    }
    if (path.startsWith(buildPrefix)) {
      const file = buildFiles.get(path.slice(buildPrefix.length));
      return file && serveFile(req, file, IMMUTABLE);
    }
    // Without the slash a folder redirects, so its page's relative links resolve inside it.
    const file = staticFiles.get(path.endsWith("/") && path !== "/" ? `${path}index.html` : path);
    if (!file && staticFiles.has(`${path}/index.html`)) {
      const location = `${url.pathname}/${url.search}`;
      return Promise.resolve(new Response(null, { status: 301, headers: { location } }));
    }
    if (!file) return undefined;
    const busted = url.searchParams.get(ASSET_CACHE_BUST_KEY) === build.buildId;
    return serveFile(req, file, busted ? IMMUTABLE : "no-cache");
  };
}

const LOOPBACK_INFO = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
  completed: Promise.resolve(),
} as Deno.ServeHandlerInfo;

/** The written build, else (a slower start) one made in memory; else an error at once. */
async function loadClientBuild(manifest: Manifest, config: ReturnType<typeof resolveConfig>) {
  const { rootDir, outDir, entries } = config;
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
  const dirs = [resolved.staticDir, `${resolved.outDir}/${BUILD_STATIC_DIR}`];
  const serveStatic = await staticHandler(dirs, client);

  const shell = { app: router.app, islands: manifest.islands, build: client };
  const page = (Page: ComponentType<PageProps>, ctx: FreshContext, init: ResponseInit = {}) => {
    const { url, route, params, state, data } = ctx;
    const props = { url, route, params, state, data };
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
    return new Response(renderPage({ ...shell, page: Page, props }), { ...init, headers });
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
