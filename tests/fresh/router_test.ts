import assert from "node:assert/strict";
import { buildRouter, routeFor } from "$fresh/router.ts";
import type { Manifest } from "$fresh/server.ts";

const Page = () => null;
const render = () => new Response("page");
/** What answers `method` at `path`. */
const at = (router: ReturnType<typeof buildRouter>, path: string, method = "GET") =>
  routeFor(router, new URL(`http://x${path}`), method, render);

/** The patterns of route files, in the router's order. */
const patternsOf = (files: string[]) =>
  buildRouter({
    routes: Object.fromEntries(files.map((f) => [f, { default: Page }])),
    islands: {},
    baseUrl: "file:///app/fresh.gen.ts",
  }).routes.map((r) => r.pattern);

Deno.test("route files become patterns: index files, nested folders, params and rest", () => {
  const pairs = [
    ["./routes/index.tsx", "/"],
    ["./routes/about.tsx", "/about"],
    ["./routes/room/index.tsx", "/room"],
    ["./routes/room/[name].tsx", "/room/:name"],
    ["./routes/docs/[...path].ts", "/docs/:path*"],
  ];
  for (const [file, pattern] of pairs) assert.deepEqual(patternsOf([file]), [pattern]);
  assert.throws(() => patternsOf(["./routes/a[b].tsx"]), SyntaxError);
});

Deno.test("routes are ordered static before dynamic before rest, whatever the manifest's order", () => {
  const files = [
    "./routes/[...rest].tsx",
    "./routes/users/[id].tsx",
    "./routes/users/new.tsx",
    "./routes/index.tsx",
    "./routes/users/[id]/edit.tsx",
    "./routes/docs/[...p].tsx",
    "./routes/docs.tsx",
  ];
  const expected = [
    "/users/new",
    "/users/:id/edit",
    "/users/:id",
    "/",
    "/docs",
    "/docs/:p*",
    "/:rest*",
  ];
  assert.deepEqual(patternsOf(files), expected);
  assert.deepEqual(patternsOf([...files].reverse()), expected);
});

const manifest: Manifest = {
  routes: {
    "./routes/[...rest].tsx": { default: Page },
    "./routes/users/[id].tsx": { default: Page },
    "./routes/users/new.tsx": { default: Page },
    "./routes/index.tsx": { default: Page },
    "./routes/_404.tsx": { default: Page },
    "./routes/_app.tsx": { default: Page },
    "./routes/api/_middleware.ts": { handler: (_r, c) => c.next() },
    "./routes/_middleware.ts": { handler: [(_r, c) => c.next(), (_r, c) => c.next()] },
    "./routes/api/health.ts": { handler: { GET: () => new Response("ok") } },
  },
  islands: {},
  baseUrl: "file:///app/fresh.gen.ts",
};

Deno.test("buildRouter: sorts routes and keeps special files apart", () => {
  const router = buildRouter(manifest);
  assert.deepEqual(router.routes.map((r) => r.pattern), [
    "/api/health",
    "/users/new",
    "/users/:id",
    "/",
    "/:rest*",
  ]);
  assert.deepEqual(router.app, Page);
  assert.deepEqual(router.notFound, Page);
  assert.deepEqual(router.middlewares.map((m) => [m.prefix, m.handlers.length]), [["/", 2], [
    "/api/",
    1,
  ]]);
});

Deno.test("routeFor: params are decoded, rest params span segments", () => {
  const router = buildRouter(manifest);
  assert.deepEqual(at(router, "/users/new").route?.pattern, "/users/new");
  assert.deepEqual(at(router, "/users/a%20b").params, { id: "a b" });
  assert.deepEqual(at(router, "/users/%E0%A4%A").params, { id: "%E0%A4%A" });
  assert.deepEqual(at(router, "/a/b/c").params, { rest: "a/b/c" });
  assert.deepEqual(at(router, "/o").route?.pattern, "/:rest*");
  assert.deepEqual(at(buildRouter({ ...manifest, routes: {} }), "/").route, undefined);
});

Deno.test("routeFor: middlewares of the folders containing the path, outer folder first", () => {
  const router = buildRouter(manifest);
  assert.deepEqual(at(router, "/api/health").middlewares.length, 3);
  assert.deepEqual(at(router, "/api").middlewares.length, 3);
  assert.deepEqual(at(router, "/apix").middlewares.length, 2);
  assert.deepEqual(
    at(router, "/api/health").middlewares[2],
    manifest.routes["./routes/api/_middleware.ts"].handler,
  );
});

Deno.test("routeFor: pages answer GET and HEAD only, the rest 405 with Allow", async () => {
  const router = buildRouter(manifest);
  const allowOf = async (path: string, method: string) => {
    const res = await at(router, path, method).handler(new Request("http://x/"), {} as never);
    return [res.status, res.headers.get("allow")];
  };
  assert.equal(at(router, "/", "GET").handler, render);
  assert.equal(at(router, "/", "HEAD").handler, render);
  assert.deepEqual(await allowOf("/", "POST"), [405, "GET, HEAD"]);
  assert.deepEqual(await allowOf("/api/health", "DELETE"), [405, "GET, HEAD"]);
  const any = () => new Response("any");
  const fn = buildRouter({ ...manifest, routes: { "./routes/any.ts": { handler: any } } });
  assert.equal(at(fn, "/any", "PATCH").handler, any);
});
