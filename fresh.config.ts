import { defineConfig } from "$fresh/server.ts";

export default defineConfig({
  // Extra standalone bundles, served at `/<name>.js`: the SDK for browsers.
  build: { entries: { sdk: "./lib/sdk/mod.ts" } },
});
