import assert from "node:assert/strict";
import { defineConfig } from "$fresh/server.ts";
import { resolveConfig } from "$fresh/build.ts";

Deno.test("resolveConfig: defaults, and paths made absolute from the manifest's folder", () => {
  assert.deepEqual(resolveConfig("file:///my%20app/fresh.gen.ts"), {
    rootDir: "/my app",
    staticDir: "/my app/static",
    outDir: "/my app/_fresh",
    entries: {},
    steps: [],
  });
  const c = resolveConfig(
    "file:///app/fresh.gen.ts",
    defineConfig({ staticDir: "/srv/static", build: { entries: { sdk: "./lib/sdk/mod.ts" } } }),
  );
  assert.equal(c.staticDir, "/srv/static");
  assert.deepEqual(c.entries, { sdk: "/app/lib/sdk/mod.ts" });
});
