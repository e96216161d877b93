/**
 * The one PeerJS server of this isolate, for the routes: made on first use
 * over the shared hub, unless `PARLEY_PEERJS=off`.
 *
 * @module
 */
import { sharedHub } from "../instance.ts";
import { peerjsFromEnv } from "../settings.ts";
import { createPeerjsServer, type PeerjsServer } from "./server.ts";

let shared: Promise<PeerjsServer | null> | undefined;

/**
 * This isolate's PeerJS server over {@linkcode sharedHub}; null when
 * `PARLEY_PEERJS=off`. On SIGINT or SIGTERM its sockets are told to
 * reconnect (close 1001), like the hub's.
 *
 * @example
 * ```ts ignore
 * const peerjs = await sharedPeerjs();
 * if (peerjs === null) return new Response("Not found", { status: 404 });
 * return peerjs.handle(req, info);
 * ```
 */
export function sharedPeerjs(): Promise<PeerjsServer | null> {
  shared ??= (async () => {
    const settings = peerjsFromEnv();
    if (!settings.enabled) return null;
    const server = createPeerjsServer({ hub: await sharedHub(), settings });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(signal, () => server.close());
      } catch {
        // Not supported here (SIGTERM on Windows).
      }
    }
    return server;
  })();
  return shared;
}
