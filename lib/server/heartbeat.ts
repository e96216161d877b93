/**
 * The application-level heartbeat: a ping every few heartbeats to each
 * welcomed socket, whose pong says how much its client received (so its
 * resume log can shrink), and the suspension of a connection whose client
 * sent nothing for two of them — a socket whose peer answers Deno's own
 * pings but whose app is gone.
 *
 * @module
 */
import { CLOSE, type Limits, type ServerFrame } from "../protocol/mod.ts";
import { type Connection, ConnectionState } from "./connection.ts";
import type { Registry } from "./registry.ts";

/**
 * The application-level ping (whose pong carries the client's resume
 * counter) goes out once per this many heartbeats. The heartbeat itself is
 * Deno's own WebSocket ping (`idleTimeout`): no JSON to build or parse, and
 * only on a socket that has been silent for a heartbeat.
 */
export const APP_PING_HEARTBEATS = 4;

/**
 * Milliseconds between application-level pings, as the welcome tells them.
 *
 * @example
 * ```ts
 * import { appPingMs } from "./heartbeat.ts";
 * appPingMs({ heartbeatMs: 25_000 }); // 100_000
 * ```
 */
export function appPingMs(limits: Pick<Limits, "heartbeatMs">): number {
  return limits.heartbeatMs * APP_PING_HEARTBEATS;
}

/**
 * The heartbeat of one hub's connections; its timer keeps no process alive.
 *
 * @example
 * ```ts ignore
 * const heartbeat = new Heartbeat(registry, (connection) => sessions.suspend(connection), limits);
 * heartbeat.stop();
 * ```
 */
export class Heartbeat {
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly registry: Registry,
    /** Keeps a silent connection for its client to resume (see `Sessions.suspend`). */
    private readonly suspend: (connection: Connection) => void,
    limits: Pick<Limits, "heartbeatMs">,
  ) {
    const everyMs = appPingMs(limits);
    this.#timer = setInterval(() => this.beat(everyMs), everyMs);
    Deno.unrefTimer(Number(this.#timer));
  }

  /** Pings every open, welcomed connection; suspends those silent for two intervals of `everyMs`. */
  beat(everyMs: number): void {
    const deadline = performance.now() - 2 * everyMs;
    const ping = JSON.stringify({ type: "ping" } satisfies ServerFrame);
    for (const connection of [...this.registry.all()]) {
      if (connection.state !== ConnectionState.Open || !connection.welcomed) continue;
      if (connection.lastSeen < deadline) {
        // Silent: its socket is likely dead. Its client may still resume it.
        try {
          connection.socket.close(
            CLOSE.heartbeatTimeout,
            "Heartbeat timeout: no frame for two intervals",
          );
        } catch {
          // Already closing.
        }
        this.suspend(connection);
      } else {
        connection.sendUncounted(ping);
      }
    }
  }

  /** Stops the pings. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
