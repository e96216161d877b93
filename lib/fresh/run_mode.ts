/**
 * Whether the entry module was started with `deno run` rather than
 * `deno serve`. `import.meta.main` is true under both (and under Deno
 * Deploy's auto-serve), and Deno exposes no flag for it (denoland/deno#29447),
 * so on Linux the process's own command line answers; where it cannot be
 * read (Deno Deploy, other systems, no read permission) the answer is "no",
 * so a server is never started twice.
 *
 * @module
 */

/**
 * True when `meta` is the main module of a `deno run` (or `deno main.ts`)
 * process, false under `deno serve` and wherever it cannot be told.
 *
 * @example Start a server only when run directly
 * ```ts ignore
 * import { isRunDirectly, start } from "$fresh/server.ts";
 * if (isRunDirectly(import.meta)) await start(manifest, config);
 * ```
 */
export function isRunDirectly(meta: ImportMeta): boolean {
  if (!meta.main) return false;
  try {
    const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    const subcommand = argv.slice(1).find((arg) => !arg.startsWith("-"));
    return subcommand !== undefined && subcommand !== "serve";
  } catch {
    return false;
  }
}
