/**
 * `$fresh/server.ts`: start the app, or get its handler to serve elsewhere.
 *
 * @module
 */
import { createHandler } from "./context.ts";
import type { FreshConfig, Manifest } from "./types.ts";

export { createHandler, type RequestHandler } from "./context.ts";
export { defineConfig } from "./config.ts";
export type * from "./types.ts";

/**
 * Serves the app with `Deno.serve` on `config.server` (Deno's defaults where
 * unset: port 8000, HTTPS when `cert` and `key` are given) and resolves when
 * the server has shut down.
 *
 * @example Usage
 * ```ts ignore
 * import { start } from "$fresh/server.ts";
 * import manifest from "./fresh.gen.ts";
 * await start(manifest, { server: { port: 8000 } });
 * ```
 */
export async function start(manifest: Manifest, config: FreshConfig = {}): Promise<void> {
  const handler = await createHandler(manifest, config);
  await Deno.serve(config.server ?? {}, handler).finished;
}
