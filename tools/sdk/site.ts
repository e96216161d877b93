/**
 * The app's build step for the SDK (see fresh.config.ts): the declarations
 * at `/sdk.d.ts`, which `/sdk.js` names in its `X-TypeScript-Types` header,
 * and the API reference at `/docs/sdk/`. It needs nothing but Deno (no
 * Node.js or npm), so the build runs on Deno Deploy and, once Deno's cache
 * is warm, offline.
 *
 * @module
 */
import type { BuildStep } from "$fresh/server.ts";
import { writeSdkDocs } from "./docs.ts";
import { writeSdkTypes } from "./types.ts";

/**
 * Writes `sdk.d.ts` and `docs/sdk/` into the build's static folder.
 *
 * @example
 * ```ts ignore
 * export default defineConfig({ build: { steps: [sdkTypesAndDocs] } });
 * ```
 */
export const sdkTypesAndDocs: BuildStep = async function sdkTypesAndDocs({ staticOutDir }) {
  await Promise.all([
    writeSdkTypes(`${staticOutDir}/sdk.d.ts`),
    writeSdkDocs(`${staticOutDir}/docs/sdk`),
  ]);
};
