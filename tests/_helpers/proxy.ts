/**
 * A TCP proxy on 127.0.0.1 whose connections a test can cut without any
 * close frame, as a network blip does (the server sees 1006), and whose
 * upstream can be switched (the client comes back to another server), or
 * whose connections go silent (open, but nothing passes either way).
 *
 * @module
 */

/** A running proxy. */
export interface CuttableProxy extends AsyncDisposable {
  /** `ws://127.0.0.1:PORT/api/realtime` through the proxy. */
  url: string;
  /** Where new connections go from now on. */
  upstream: number;
  /** Drops every open connection abruptly, both ways. */
  cut(): void;
  /** Refuses new connections while true (the network is down). */
  down: boolean;
  /** While true, open connections stay open but carry nothing (what passes is swallowed). */
  silent: boolean;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `upstreamPort` on 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * await using proxy = await startProxy(hubPort);
 * const client = new RealtimeClient({ url: proxy.url });
 * proxy.cut(); // a blip
 * ```
 */
export function startProxy(upstreamPort: number): CuttableProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const proxy = {
    url: `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/api/realtime`,
    upstream: upstreamPort,
    down: false,
    silent: false,
    cut() {
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      open.clear();
    },
    async close() {
      proxy.cut();
      listener.close();
      await accepting;
    },
    [Symbol.asyncDispose]: () => proxy.close(),
  };
  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    try {
      const buffer = new Uint8Array(64 * 1024);
      for (let n; (n = await from.read(buffer)) !== null;) {
        if (proxy.silent) continue;
        for (let rest = buffer.subarray(0, n); rest.length > 0;) {
          rest = rest.subarray(await to.write(rest));
        }
      }
    } catch { /* cut */ }
    for (const conn of [from, to]) {
      if (open.delete(conn)) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      if (proxy.down) {
        client.close();
        continue;
      }
      try {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: proxy.upstream });
        open.add(client).add(server);
        pipe(client, server);
        pipe(server, client);
      } catch {
        client.close();
      }
    }
  })().catch(() => {});
  return proxy;
}
