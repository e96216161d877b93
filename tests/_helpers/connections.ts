/**
 * Server-side connections over real WebSockets, without a hub: each a
 * `Connection` on the server's end of a socket whose other end is a raw
 * client, for the tests of the hub's parts (the inbound pipeline, routing,
 * the heartbeat, hand-overs).
 *
 * @module
 */
import { LIMITS } from "../../lib/protocol/mod.ts";
import { Connection } from "../../lib/server/connection.ts";
import { randomId } from "../../lib/server/ids.ts";
import { type RawClient, rawClient, serveWelcome } from "./hub.ts";

/** One connection and the client at the other end of its socket. */
export interface Wired {
  connection: Connection;
  /** The server's end of the socket (the connection's). */
  socket: WebSocket;
  client: RawClient;
}

/** The limits of a wired connection; the protocol's unless given. */
export interface WiredLimits {
  rate?: number;
  burst?: number;
  replayFrames?: number;
  replayBytes?: number;
}

/**
 * Opens `n` real sockets to a stand-in server and makes a `Connection` of
 * the server's end of each (not bound to anything: the test binds it).
 *
 * @example
 * ```ts ignore
 * await using wired = await wiredConnections(2);
 * const [{ connection, socket, client }] = wired.pairs;
 * ```
 */
export async function wiredConnections(
  n = 1,
  limits: WiredLimits = {},
): Promise<{ pairs: Wired[] } & AsyncDisposable> {
  const sockets: WebSocket[] = [];
  const server = serveWelcome((socket) => sockets.push(socket));
  const pairs: Wired[] = [];
  for (let i = 0; i < n; i++) {
    const client = await rawClient(server.url);
    const socket = sockets[i];
    const connection = new Connection(socket, {
      cid: `cid:${randomId(18)}`,
      user_id: crypto.randomUUID(),
      name: `User ${i}`,
    }, {
      rate: limits.rate ?? LIMITS.rateLimit,
      burst: limits.burst ?? LIMITS.rateBurst,
      replayFrames: limits.replayFrames ?? LIMITS.resumeBufferFrames,
      replayBytes: limits.replayBytes ?? LIMITS.resumeBufferBytes,
    });
    pairs.push({ connection, socket, client });
  }
  return {
    pairs,
    async [Symbol.asyncDispose]() {
      await Promise.all(pairs.map(({ client }) => client.close()));
      await server[Symbol.asyncDispose]();
    },
  };
}
