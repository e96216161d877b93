import { createHandler } from "$fresh/server.ts";
import manifest from "./fresh.gen.ts";
import config from "./fresh.config.ts";

// Made at startup (each `deno serve --parallel` isolate makes its own), so a
// broken route or a failed build stops the server before it takes traffic.
const handler = await createHandler(manifest, config);

/**
 * The app, served by `deno serve` (`deno task cluster`), by Deno Deploy, and
 * by `dev.ts` (`deno task start`, `deno task dev`).
 */
export default { fetch: handler } satisfies Deno.ServeDefaultExport;

/**
 * Whether this process is `deno run main.ts` rather than `deno serve main.ts`.
 * `import.meta.main` is true under both (and under Deploy's auto-serve) and
 * Deno exposes no flag for it (denoland/deno#29447), so on Linux the
 * process's command line answers; where it cannot be read (Deploy, other
 * systems) the answer is "no", so a server is never started twice.
 */
function runDirectly(): boolean {
  if (!import.meta.main) return false;
  try {
    const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    const subcommand = argv.slice(1).find((arg) => !arg.startsWith("-"));
    return subcommand !== undefined && subcommand !== "serve";
  } catch {
    return false;
  }
}

// `deno run -A main.ts` serves on config.server ($PORT, default 8000; TLS
// from PARLEY_TLS_CERT/KEY) too.
if (runDirectly()) await Deno.serve(config.server ?? {}, handler).finished;
