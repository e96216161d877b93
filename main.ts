import { createHandler, isRunDirectly, start } from "$fresh/server.ts";
import manifest from "./fresh.gen.ts";
import config from "./fresh.config.ts";

// Made at startup (each `deno serve --parallel` isolate makes its own), so a
// broken route or a failed build stops the server before it takes traffic.
const handler = await createHandler(manifest, config);

/**
 * The app, served by `deno serve` (`deno task start`, `deno task cluster`),
 * by Deno Deploy, and by `dev.ts` in development.
 */
export default { fetch: handler } satisfies Deno.ServeDefaultExport;

// `deno run -A main.ts` serves on $PORT (default 8000) too. Not under
// `deno serve`, where `import.meta.main` is also true: see isRunDirectly.
if (isRunDirectly(import.meta)) await start(manifest, config);
