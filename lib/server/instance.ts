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
    return createHub({ kv });
  })();
  return shared;
}
