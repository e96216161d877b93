import { type BuildStep, defineConfig } from "$fresh/server.ts";

// HTTPS (and WSS) when both are set: PEM files of the certificate chain and its key.
const certFile = Deno.env.get("PARLEY_TLS_CERT") || undefined;
const keyFile = Deno.env.get("PARLEY_TLS_KEY") || undefined;
if (Boolean(certFile) !== Boolean(keyFile)) {
  throw new TypeError(
    "Cannot serve TLS as only one of PARLEY_TLS_CERT and PARLEY_TLS_KEY is set: set both, or neither",
  );
}
const port = Number(Deno.env.get("PORT") ?? 8000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new RangeError(
    `Cannot serve as PORT must be an integer in 0-65535: current value is ${port}`,
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
  // Where `deno task start` and `deno run main.ts` listen (`deno serve` and
  // Deno Deploy bind their own port and ignore this).
  server: {
    port,
    hostname: "0.0.0.0",
    ...(certFile && keyFile
      ? { cert: Deno.readTextFileSync(certFile), key: Deno.readTextFileSync(keyFile) }
      : {}),
  },
  build: {
    // Extra standalone bundles, served at `/<name>.js`: the SDK for browsers.
    entries: { sdk: "./lib/sdk/mod.ts" },
    steps: [sdkTypesAndDocs],
  },
});
