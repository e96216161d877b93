import { createHandler } from "$fresh/server.ts";
import manifest from "./fresh.gen.ts";
import config from "./fresh.config.ts";

// Made at startup (each `deno serve --parallel` isolate makes its own), so a
// broken route or a failed build stops the server before it takes traffic.
const handler = await createHandler(manifest, config);

/**
 * The app, served by `deno serve` (`deno task start`, `deno task cluster`),
 * by Deno Deploy, and by `dev.ts` in development.
 *
 * There is deliberately no `if (import.meta.main) await start(manifest, config)`:
 * `import.meta.main` is also true under `deno serve` (and Deploy's auto-serve),
 * and Deno offers no way to tell the two apart (denoland/deno#29447), so every
 * `deno serve` isolate would open a second server on $PORT. `start` from
 * `$fresh/server.ts` remains for scripts that want a server of their own.
 */
export default { fetch: handler } satisfies Deno.ServeDefaultExport;
