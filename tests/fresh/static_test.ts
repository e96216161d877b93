import assert from "node:assert/strict";
import { fixtureHandler, rawStatus, serveFixture } from "./fixture/serve.ts";

/** Asks the fixture's handler itself (no server) for `path`. */
async function ask(path: string, method = "GET"): Promise<Response> {
  return await (await fixtureHandler())(new Request(`http://x${path}`, { method }));
}

Deno.test("content types by extension, in any case, octet-stream otherwise", async () => {
  const typeOf = async (path: string) => {
    const res = await ask(path);
    await res.body?.cancel();
    return [res.status, res.headers.get("content-type")];
  };
  assert.deepEqual(await typeOf("/styles.css"), [200, "text/css; charset=utf-8"]);
  assert.deepEqual(await typeOf("/LOUD.SVG"), [200, "image/svg+xml"]);
  assert.deepEqual(await typeOf("/extra.js"), [200, "text/javascript; charset=utf-8"]);
  assert.deepEqual(await typeOf("/noext"), [200, "application/octet-stream"]);
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

Deno.test("static files answer GET and HEAD only; asset() URLs of this build are immutable", async () => {
  const html = await (await ask("/island")).text();
  const buildId = html.match(/\/_frsh\/js\/([0-9a-f]{16})\//)?.[1];
  assert.ok(buildId, "the page names its build");
  const hello = await Deno.readTextFile(new URL("./fixture/static/hello.txt", import.meta.url));
  assert.equal(await (await ask("/hello.txt")).text(), hello);
  const post = await ask("/hello.txt", "POST");
  assert.equal(post.status, 404, "a POST is no static file's");
  await post.body?.cancel();
  const head = await ask("/hello.txt", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  for (
    const [query, cacheControl] of [
      [`__frsh_c=${buildId}`, "public, max-age=31536000, immutable"],
      ["__frsh_c=0000000000000000", "no-cache"],
    ]
  ) {
    const res = await ask(`/hello.txt?${query}`);
    assert.equal(res.headers.get("cache-control"), cacheControl, query);
    await res.body?.cancel();
  }
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
