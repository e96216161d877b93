/**
 * `$fresh/server.ts`: start the app, or get its handler to serve elsewhere.
 * A tiny runtime surface; the rest is types.
 *
 * @module
 */
import { resolveConfig, serveOptions } from "./config.ts";
import { createHandler } from "./context.ts";
import type { FreshConfig, Manifest } from "./types.ts";

export { createHandler, type RequestHandler } from "./context.ts";
export { defineConfig } from "./config.ts";
export { isRunDirectly } from "./run_mode.ts";
export type * from "./types.ts";

/**
 * Serves the app with `Deno.serve` on `config.port` (default `$PORT`, else
 * 8000) — over HTTPS when `config.tls` is set — prints its URL, and resolves
 * when the server has shut down.
 *
 * @example Usage
 * ```ts ignore
 * import { start } from "$fresh/server.ts";
 * import manifest from "./fresh.gen.ts";
 * import config from "./fresh.config.ts";
 * await start(manifest, config);
 * ```
 */
export async function start(manifest: Manifest, config: FreshConfig = {}): Promise<void> {
  const { options, scheme } = await serveOptions(resolveConfig(manifest, config));
  const handler = await createHandler(manifest, config);
  const server = Deno.serve({
    ...options,
    onListen: ({ hostname, port }) => {
      const host = hostname === "0.0.0.0" ? "localhost" : hostname;
      console.log(`Listening on ${scheme}://${host}:${port}/`);
    },
  }, handler);
  await server.finished;
}
