/**
 * A small stand-in for Fresh 1.7's app-facing API (JSR and deno.land are out
 * of reach). Pages import `$fresh/runtime.ts`, `main.ts` imports
 * `$fresh/server.ts`, `dev.ts` imports `$fresh/dev.ts`; this module
 * re-exports the server API and its types.
 *
 * @example Usage
 * ```ts ignore
 * import { createHandler } from "$fresh/mod.ts";
 * import manifest from "./fresh.gen.ts";
 * Deno.serve(await createHandler(manifest));
 * ```
 *
 * @module
 */
export * from "./server.ts";
