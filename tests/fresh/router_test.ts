import assert from "node:assert/strict";
import { buildRouter, matchRoute, methodHandler, middlewaresFor } from "$fresh/router.ts";
import type { Manifest } from "$fresh/server.ts";

const Page = () => null;
const url = (path: string) => new URL(`http://x${path}`);

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
    "./routes/o.tsx": { default: Page, config: { routeOverride: "/over/:x" } },
  },
  islands: {},
  baseUrl: "file:///app/fresh.gen.ts",
};

Deno.test("buildRouter: sorts routes and keeps special files apart", () => {
  const router = buildRouter(manifest);
  assert.deepEqual(router.routes.map((r) => r.pattern), [
    "/api/health",
    "/users/new",
    "/over/:x",
    "/users/:id",
    "/",
    "/:rest*",
  ]);
  assert.deepEqual(router.app, Page);
  assert.deepEqual(router.notFound?.component, Page);
  assert.deepEqual(router.middlewares.map((m) => [m.prefix, m.handlers.length]), [["/", 2], [
    "/api/",
    1,
  ]]);
});

Deno.test("matchRoute: params are decoded, rest params span segments", () => {
  const router = buildRouter(manifest);
  assert.deepEqual(matchRoute(router, url("/users/new"))?.route.pattern, "/users/new");
  assert.deepEqual(matchRoute(router, url("/users/a%20b"))?.params, { id: "a b" });
  assert.deepEqual(matchRoute(router, url("/users/%E0%A4%A"))?.params, { id: "%E0%A4%A" });
  assert.deepEqual(matchRoute(router, url("/a/b/c"))?.params, { rest: "a/b/c" });
  assert.deepEqual(matchRoute(router, url("/over/7"))?.params, { x: "7" });
  assert.deepEqual(matchRoute(router, url("/o"))?.route.pattern, "/:rest*");
  assert.deepEqual(matchRoute(buildRouter({ ...manifest, routes: {} }), url("/")), undefined);
});

Deno.test("middlewaresFor: outer folder first, only folders containing the path", () => {
  const router = buildRouter(manifest);
  assert.deepEqual(middlewaresFor(router, "/api/health").length, 3);
  assert.deepEqual(middlewaresFor(router, "/api").length, 3);
  assert.deepEqual(middlewaresFor(router, "/apix").length, 2);
  assert.deepEqual(
    middlewaresFor(router, "/api/health")[2],
    manifest.routes["./routes/api/_middleware.ts"].handler,
  );
});

Deno.test("methodHandler: pages answer GET and HEAD only, the rest 405 with Allow", async () => {
  const router = buildRouter(manifest);
  const page = router.routes.find((r) => r.pattern === "/")!;
  const render = () => new Response("page");
  const allowOf = async (route: typeof page, method: string) => {
    const res = await methodHandler(route, method, render)(new Request("http://x/"), {} as never);
    return [res.status, res.headers.get("allow")];
  };
  assert.deepEqual(methodHandler(page, "GET", render), render);
  assert.deepEqual(methodHandler(page, "HEAD", render), render);
  assert.deepEqual(await allowOf(page, "POST"), [405, "GET, HEAD"]);
  const api = router.routes.find((r) => r.pattern === "/api/health")!;
  assert.deepEqual(await allowOf(api, "DELETE"), [405, "GET, HEAD"]);
  const fn = { ...api, handler: render };
  assert.deepEqual(methodHandler(fn, "PATCH", render), render);
});
