/**
 * Static files, listed once at startup: no request path (`..`, encoded
 * slashes or backslashes, null bytes) can reach a file not listed.
 *
 * @module
 */
import type { BuildOutput } from "./build.ts";
import { ASSET_CACHE_BUST_KEY } from "./runtime.ts";

/** Client bundles are served at `${JS_PREFIX}/<build id>/<file>`, cacheable forever. */
export const JS_PREFIX = "/_frsh/js";
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
 * A handler of GETs and HEADs for the files of `dirs` (the first folder wins
 * a clash), a build's entries (`/<name>.js`) and bundles; `undefined` for
 * anything else. `/dir/` serves `/dir/index.html`, `/dir` redirects there.
 * Bundles and `asset()` URLs are immutable; the rest must revalidate.
 *
 * @example Usage
 * ```ts ignore
 * import { build } from "$fresh/build.ts";
 * import { staticHandler } from "$fresh/static.ts";
 * const serve = await staticHandler(["./static"], await build({ rootDir: Deno.cwd(), islands: [] }));
 * serve(new Request("http://x/../deno.json")); // undefined
 * ```
 */
export async function staticHandler(
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
