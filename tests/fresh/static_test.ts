import assert from "node:assert/strict";
import { staticHandler } from "$fresh/static.ts";
import { fixtureHandler, rawStatus, serveFixture } from "./fixture/serve.ts";

/** A build of only `files` (bundles by path) and `entries` (by name), with build id b1. */
function fakeBuild(files: Record<string, string>, entries: Record<string, string> = {}) {
  return { buildId: "b1", runtime: "", islands: {}, files, entries };
}

Deno.test("content types by extension, octet-stream otherwise", async () => {
  const serve = await staticHandler(
    [],
    fakeBuild({ "a.css": "", "A.SVG": "", "x.js": "", noext: "" }),
  );
  const typeOf = async (name: string) =>
    (await serve(new Request(`http://x/_frsh/js/b1/${name}`)))?.headers.get("content-type");
  assert.equal(await typeOf("a.css"), "text/css; charset=utf-8");
  assert.equal(await typeOf("A.SVG"), "image/svg+xml");
  assert.equal(await typeOf("x.js"), "text/javascript; charset=utf-8");
  assert.equal(await typeOf("noext"), "application/octet-stream");
});

Deno.test("static files are served with their content types", async () => {
  await using app = await serveFixture();
  for (
    const [path, type] of [
      ["/hello.txt", "text/plain; charset=utf-8"],
      ["/styles.css", "text/css; charset=utf-8"],
      ["/nested/data.json", "application/json; charset=utf-8"],
      ["/logo.svg", "image/svg+xml"],
    ]
  ) {
    const body = await Deno.readTextFile(new URL(`./fixture/static${path}`, import.meta.url));
    const res = await fetch(app.base + path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-type"), type, path);
    assert.equal(await res.text(), body, path);
  }
});

Deno.test("ETag and If-None-Match answer 304", async () => {
  await using app = await serveFixture();
  const first = await fetch(app.base + "/styles.css");
  await first.body?.cancel();
  const etag = first.headers.get("etag");
  assert.match(etag ?? "", /^"[0-9a-f]{40}"$/);
  assert.equal(first.headers.get("cache-control"), "no-cache");
  const again = await fetch(app.base + "/styles.css", { headers: { "if-none-match": etag! } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get("etag"), etag);
  assert.equal(await again.text(), "");
  const listed = await fetch(app.base + "/styles.css", {
    headers: { "if-none-match": `"nope", W/${etag}` },
  });
  assert.equal(listed.status, 304);
  await listed.body?.cancel();
  const other = await fetch(app.base + "/styles.css", { headers: { "if-none-match": '"nope"' } });
  assert.equal(other.status, 200);
  await other.body?.cancel();
});

const TRAVERSALS = [
  "/../deno.json",
  "/%2e%2e/deno.json",
  "/%2e%2e%2fdeno.json",
  "/..%2fdeno.json",
  "/..%2Fdeno.json",
  "/nested/..%2f..%2fdeno.json",
  "/..%5cdeno.json",
  "/nested%5c..%5c..%5cdeno.json",
  "/%5c..%5cdeno.json",
  "/hello.txt%00",
  "/hello.txt%00.css",
  "/%00",
  "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "/....//deno.json",
  "/%252e%252e%252fdeno.json",
  "/%",
  "//etc/passwd",
];

Deno.test("every traversal attempt over the wire answers 404", async () => {
  await using app = await serveFixture();
  for (const target of TRAVERSALS) {
    assert.equal(await rawStatus(app.base, target), 404, target);
  }
  // The same socket helper does reach real files, so 404 above is meaningful.
  assert.equal(await rawStatus(app.base, "/hello.txt"), 200);
});

Deno.test("every traversal attempt at the handler answers 404", async () => {
  const handler = await fixtureHandler();
  for (const target of TRAVERSALS) {
    const res = await handler(new Request(`http://x${target}`));
    assert.equal(res.status, 404, target);
    await res.body?.cancel();
  }
});

Deno.test("staticHandler serves only listed files, only for GET and HEAD", async () => {
  const serve = await staticHandler([], fakeBuild({}, { a: "a" }));
  assert.equal(await (await serve(new Request("http://x/a.js")))?.text(), "a");
  assert.equal(serve(new Request("http://x/a.js", { method: "POST" })), undefined);
  assert.equal(serve(new Request("http://x/b.js")), undefined);
  assert.equal(serve(new Request("http://x/%2e%2e/x/a.js")), undefined);
  const busted = await serve(new Request("http://x/a.js?__frsh_c=b1"))!;
  assert.equal(busted.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const old = await serve(new Request("http://x/a.js?__frsh_c=b0"))!;
  assert.equal(old.headers.get("cache-control"), "no-cache");
  const head = await serve(new Request("http://x/a.js", { method: "HEAD" }))!;
  assert.equal(head.body, null);
});

Deno.test("build output is served under /_frsh/js/<build id>/ as immutable", async () => {
  await using app = await serveFixture();
  const html = await (await fetch(app.base + "/island")).text();
  const src = html.match(/from"(\/_frsh\/js\/[0-9a-f]{16}\/[^"]+)"/)?.[1];
  assert.ok(src, "the page imports the runtime from the build path");
  const res = await fetch(app.base + src);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(await res.text(), /revive|export/);
  const stale = await fetch(
    app.base + src.replace(/\/js\/[0-9a-f]{16}\//, "/js/0000000000000000/"),
  );
  assert.equal(stale.status, 404);
  await stale.body?.cancel();
});
