import assert from "node:assert/strict";
import type { AppProps } from "$fresh/server.ts";
import { renderPage } from "$fresh/render.ts";
import { Head } from "$fresh/runtime.ts";
import { fixtureHandler, serveFixture } from "./fixture/serve.ts";

const props = { url: new URL("http://x/"), route: "/", params: {}, state: {}, data: "D" };

Deno.test("renderPage: doctype, _app wrapping, data in props", () => {
  const App = ({ Component }: AppProps) => (
    <html>
      <head></head>
      <body class="app">
        <Component />
      </body>
    </html>
  );
  const html = renderPage({ page: ({ data }: { data: string }) => <p>{data}</p>, props, app: App });
  assert.equal(html, '<!DOCTYPE html><html><head></head><body class="app"><p>D</p></body></html>');
});

Deno.test("renderPage: Head children go into <head>, a page title replaces the app's", () => {
  const App = ({ Component }: AppProps) => (
    <html>
      <head>
        <title>App</title>
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
  const Page = () => (
    <main>
      <Head>
        <title>Page</title>
        <meta name="k" content="v" />
      </Head>
    </main>
  );
  const html = renderPage({ page: Page, props, app: App });
  assert.equal(
    html,
    '<!DOCTYPE html><html><head><title>Page</title><meta name="k" content="v"/></head><body><main></main></body></html>',
  );
});

Deno.test("a page without islands ships no script", async () => {
  const handler = await fixtureHandler();
  const html = await (await handler(new Request("http://x/"))).text();
  assert.match(html, /<h1>Plain page<\/h1>/);
  assert.match(html, /<meta name="fixture" content="head"\/><\/head>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /frsh-/);
});

Deno.test("a page with islands has markers, escaped props and one module script", async () => {
  const handler = await fixtureHandler();
  const html = await (await handler(new Request("http://x/island"))).text();
  assert.match(html, /<title>Island page<\/title>/);
  assert.doesNotMatch(html, /<title>Fixture<\/title>/);
  assert.match(
    html,
    /<!--frsh-Counter:0--><button[^>]*>&lt;\/script>&lt;b>x&lt;\/b>: 3<\/button><!--\/frsh-Counter:0-->/,
  );
  assert.match(
    html,
    /<!--frsh-Counter:1--><button[^>]*>second: 7<\/button><!--\/frsh-Counter:1-->/,
  );
  const state = html.match(/<script id="__FRSH_STATE" type="application\/json">(.*?)<\/script>/)
    ?.[1];
  assert.ok(state, "props script present");
  assert.doesNotMatch(state, /<\/script/i, "props cannot close the script element");
  assert.deepEqual(JSON.parse(state), [
    { start: 3, label: "</script><b>x</b>" },
    { start: 7, label: "second" },
  ]);
  const modules = [...html.matchAll(/<script type="module">(.*?)<\/script>/g)];
  assert.equal(modules.length, 1);
  assert.match(
    modules[0][1],
    /^import\{revive\}from"\/_frsh\/js\/[0-9a-f]{16}\/lib\/fresh\/runtime\.js";/,
  );
  assert.match(
    modules[0][1],
    /import \$0 from "\/_frsh\/js\/[0-9a-f]{16}\/tests\/fresh\/fixture\/islands\/Counter\.js";/,
  );
  assert.match(modules[0][1], /revive\(\{"Counter":\$0\}/);
});

Deno.test("every script a page imports is served", async () => {
  await using app = await serveFixture();
  const html = await (await fetch(app.base + "/island")).text();
  const urls = [...html.matchAll(/from ?"(\/_frsh\/[^"]+)"/g)].map((m) => m[1]);
  assert.equal(urls.length, 2);
  for (const url of urls) {
    const res = await fetch(app.base + url);
    assert.equal(res.status, 200, url);
    await res.body?.cancel();
  }
});
