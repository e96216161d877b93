import assert from "node:assert/strict";
import { defineConfig } from "$fresh/server.ts";
import { resolveConfig, rootDirOf } from "$fresh/config.ts";

const manifest = { routes: {}, islands: {}, baseUrl: "file:///app/fresh.gen.ts" };

Deno.test("rootDirOf: the manifest's folder", () => {
  assert.equal(rootDirOf("file:///app/fresh.gen.ts"), "/app");
  assert.equal(rootDirOf("file:///my%20app/dev.ts"), "/my app");
});

Deno.test("resolveConfig: defaults and absolute paths", () => {
  const previous = Deno.env.get("PORT");
  Deno.env.delete("PORT");
  try {
    assert.deepEqual(resolveConfig(manifest), {
      port: 8000,
      hostname: "0.0.0.0",
      rootDir: "/app",
      staticDir: "/app/static",
      tls: null,
      build: { outDir: "/app/_fresh", entries: {}, minify: true, steps: [] },
    });
    Deno.env.set("PORT", "8123");
    assert.equal(resolveConfig(manifest).port, 8123);
    const c = resolveConfig(
      manifest,
      defineConfig({ port: 0, build: { entries: { sdk: "./lib/sdk/browser.ts" } } }),
    );
    assert.equal(c.port, 0);
    assert.deepEqual(c.build.entries, { sdk: "/app/lib/sdk/browser.ts" });
    const tls = resolveConfig(manifest, { tls: { certFile: "cert.pem", keyFile: "/etc/key.pem" } });
    assert.deepEqual(tls.tls, { certFile: "/app/cert.pem", keyFile: "/etc/key.pem" });
  } finally {
    if (previous === undefined) Deno.env.delete("PORT");
    else Deno.env.set("PORT", previous);
  }
});

Deno.test("resolveConfig: a bad port is a RangeError", () => {
  assert.throws(() => resolveConfig(manifest, { port: 70000 }), RangeError);
  assert.throws(() => resolveConfig(manifest, { port: 1.5 }), RangeError);
});
