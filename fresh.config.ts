import { defineConfig } from "$fresh/server.ts";

// HTTPS (and WSS) when both are set: PEM files of the certificate chain and its key.
const certFile = Deno.env.get("PARLEY_TLS_CERT") || undefined;
const keyFile = Deno.env.get("PARLEY_TLS_KEY") || undefined;
if (Boolean(certFile) !== Boolean(keyFile)) {
  throw new TypeError(
    "Cannot serve TLS as only one of PARLEY_TLS_CERT and PARLEY_TLS_KEY is set: set both, or neither",
  );
}

export default defineConfig({
  // Extra standalone bundles, served at `/<name>.js`: the SDK for browsers.
  build: { entries: { sdk: "./lib/sdk/mod.ts" } },
  tls: certFile && keyFile ? { certFile, keyFile } : undefined,
});
