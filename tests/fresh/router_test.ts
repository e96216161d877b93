import assert from "node:assert/strict";
import {
  allowedMethods,
  buildRouter,
  comparePatterns,
  KNOWN_METHODS,
  matchRoute,
  methodHandler,
  middlewaresFor,
  pathToPattern,
} from "$fresh/router.ts";
import type { Manifest } from "$fresh/server.ts";

const Page = () => null;
const url = (path: string) => new URL(`http://x${path}`);

Deno.test("pathToPattern: index files, nested folders, params and rest", () => {
  assert.deepEqual(pathToPattern("./routes/index.tsx"), "/");
  assert.deepEqual(pathToPattern("./routes/about.tsx"), "/about");
  assert.deepEqual(pathToPattern("./routes/room/index.tsx"), "/room");
  assert.deepEqual(pathToPattern("./routes/room/[name].tsx"), "/room/:name");
  assert.deepEqual(pathToPattern("./routes/docs/[...path].ts"), "/docs/:path*");
  assert.throws(() => pathToPattern("./routes/a[b].tsx"), SyntaxError);
});

Deno.test("comparePatterns: static before dynamic before rest, in any input order", () => {
  const patterns = [
    "/:rest*",
    "/users/:id",
    "/users/new",
    "/",
    "/users/:id/edit",
    "/docs/:p*",
    "/docs",
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
  assert.deepEqual([...patterns].sort(comparePatterns), expected);
  assert.deepEqual([...patterns].reverse().sort(comparePatterns), expected);
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

Deno.test("methodHandler and allowedMethods: pages answer GET and HEAD only", () => {
  const router = buildRouter(manifest);
  const page = router.routes.find((r) => r.pattern === "/")!;
  const render = () => new Response("page");
  assert.deepEqual(methodHandler(page, "GET", render), render);
  assert.deepEqual(methodHandler(page, "HEAD", render), render);
  assert.deepEqual(methodHandler(page, "POST", render), undefined);
  assert.deepEqual(allowedMethods(page), ["GET", "HEAD"]);
  const api = router.routes.find((r) => r.pattern === "/api/health")!;
  assert.deepEqual(allowedMethods(api), ["GET", "HEAD"]);
  assert.deepEqual(methodHandler(api, "DELETE", render), undefined);
  const fn = { ...api, handler: render };
  assert.deepEqual(allowedMethods(fn), [...KNOWN_METHODS]);
  assert.deepEqual(methodHandler(fn, "PATCH", render), render);
});
