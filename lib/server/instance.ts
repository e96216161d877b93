/**
 * The one hub of this isolate, created on first use, for the routes.
 *
 * @module
 */
import { createHub, type Hub } from "./hub.ts";

let shared: Promise<Hub> | undefined;

/**
 * Opens the KV named by `PARLEY_KV_PATH` (a file path, `:memory:`, or a KV
 * Connect URL) — or the embedded default, which is also Deno Deploy's — and
 * creates this isolate's hub on it, once.
 *
 * @example
 * ```ts ignore
 * const hub = await sharedHub();
 * return hub.handle(req);
 * ```
 */
export function sharedHub(): Promise<Hub> {
  shared ??= (async () => {
    const path = Deno.env.get("PARLEY_KV_PATH") || undefined;
    const kv = await Deno.openKv(path);
    const hub = createHub({ kv });
    closeOnSignals(hub);
    return hub;
  })();
  return shared;
}

/**
 * Graceful shutdown: on SIGINT (Deno Deploy's, 5 s before SIGKILL) or
 * SIGTERM, tell every client to reconnect elsewhere (close 1001), clear this
 * isolate's presence, then exit. Under `deno serve --parallel` every isolate
 * hears the signal; the short wait before exiting lets the others finish too.
 */
function closeOnSignals(hub: Hub): void {
  const stop = () => {
    hub.close().finally(() => setTimeout(() => Deno.exit(0), 250));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Not supported here (SIGTERM on Windows): the platform's default applies.
    }
  }
}
