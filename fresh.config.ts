import { type BuildStep, defineConfig } from "$fresh/server.ts";

// HTTPS (and WSS) when both are set: PEM files of the certificate chain and its key.
const certFile = Deno.env.get("PARLEY_TLS_CERT") || undefined;
const keyFile = Deno.env.get("PARLEY_TLS_KEY") || undefined;
if (Boolean(certFile) !== Boolean(keyFile)) {
  throw new TypeError(
    "Cannot serve TLS as only one of PARLEY_TLS_CERT and PARLEY_TLS_KEY is set: set both, or neither",
  );
}

/**
 * The SDK's declarations (`/sdk.d.ts`) and API reference (`/docs/sdk/`),
 * made at build time only: the tools are loaded when the step runs, never
 * by the server.
 */
const sdkTypesAndDocs: BuildStep = async function sdkTypesAndDocs(context) {
  const { sdkTypesAndDocs } = await import("./tools/sdk/site.ts");
  await sdkTypesAndDocs(context);
};

export default defineConfig({
  build: {
    // Extra standalone bundles, served at `/<name>.js`: the SDK for browsers.
    entries: { sdk: "./lib/sdk/mod.ts" },
    steps: [sdkTypesAndDocs],
  },
  tls: certFile && keyFile ? { certFile, keyFile } : undefined,
});
