import assert from "node:assert/strict";
import { fixtureHandler, serveFixture } from "./fixture/serve.ts";

/** Fetches `path` from a fixture server started for this one request. */
async function get(path: string, init?: RequestInit): Promise<Response> {
  await using app = await serveFixture();
  const res = await fetch(app.base + path, init);
  // Read the body before the server shuts down; hand back a detached copy.
  return new Response(await res.arrayBuffer(), res);
}

Deno.test("pages render inside _app with their data and route", async () => {
  const res = await get("/users/42");
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("x-user"), "1");
  assert.ok(html.startsWith("<!DOCTYPE html><html><head>"), html);
  assert.match(html, /<p>user \[42\] via \/users\/:id<\/p>/);
});

Deno.test("static routes beat params; rest params take the remainder", async () => {
  assert.match(await (await get("/users/new")).text(), /new user form/);
  assert.match(await (await get("/files/a/b/c.txt")).text(), /files \[a\/b\/c.txt\]/);
  assert.match(await (await get("/files")).text(), /files \[\]/);
});

Deno.test("unknown paths and renderNotFound answer 404 with the _404 page", async () => {
  const res = await get("/nope");
  assert.equal(res.status, 404);
  assert.match(await res.text(), /fixture 404 \/nope/);
  const missing = await get("/users/missing");
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /fixture 404 \/users\/missing no such user/);
});

Deno.test("a method the route lacks answers 405 with Allow", async () => {
  const page = await get("/users/new", { method: "POST" });
  assert.equal(page.status, 405);
  assert.equal(page.headers.get("allow"), "GET, HEAD");
  const api = await get("/api/echo", { method: "DELETE" });
  assert.equal(api.status, 405);
  assert.equal(api.headers.get("allow"), "GET, HEAD, POST");
  const post = await get("/api/echo", { method: "POST", body: "hi" });
  assert.deepEqual(await post.json(), { got: "hi" });
});

Deno.test("one handler function answers every method", async () => {
  assert.equal(await (await get("/any", { method: "PUT" })).text(), "any PUT");
  assert.equal(await (await get("/any")).text(), "any GET");
});

Deno.test("HEAD is served by GET without a body", async () => {
  // fetch() hides any body of a HEAD response, so ask the handler itself.
  const handler = await fixtureHandler();
  const res = await handler(new Request("http://x/users/7", { method: "HEAD" }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-user"), "1");
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.body, null);
  const api = await handler(new Request("http://x/api/echo", { method: "HEAD" }));
  assert.equal(api.status, 200);
  assert.equal(api.body, null);
});

Deno.test("middlewares run outer first, share state and see the response", async () => {
  const res = await get("/api/echo");
  assert.deepEqual(await res.json(), {
    trail: ["root", "api1", "api2", "handler"],
    route: "/api/echo",
  });
  assert.equal(res.headers.get("x-trail"), "root>api1>api2>handler");
  const page = await get("/");
  assert.equal(page.headers.get("x-trail"), "root");
  assert.match(await page.text(), /data-trail="root"/);
});

Deno.test("a thrown error answers 500, telling nothing of the error", async () => {
  const res = await get("/boom");
  assert.equal(res.status, 500);
  assert.equal(await res.text(), "Internal Server Error");
});

Deno.test("extra bundle entries are served at /<name>.js", async () => {
  const res = await get("/extra.js");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  const js = await res.text();
  assert.match(js, /extra-bundle-marker/);
  assert.doesNotMatch(js, /\bimport\b/, "a standalone entry must not import chunks");
});
