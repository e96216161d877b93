/**
 * Where Parley's per-connection memory goes, without sockets: a real hub on
 * a real KV takes `N` fake sockets (`hub.sessions.accept`), each joins one of 100
 * groups, and the JS heap is measured after a forced GC at each step. What
 * a real socket costs in Deno itself (the bare upgrade) is measured by the
 * capacity section; this is the part Parley adds on the JS heap.
 *
 * Usage: `deno run -A --v8-flags=--expose-gc tests/bench/probe_heap.ts [N] [--kv PATH]`;
 * prints one JSON line.
 *
 * @module
 */
import { createHub } from "../../lib/server/mod.ts";
import { SECURITY_DEFAULTS } from "../../lib/server/settings.ts";
import type { SocketLike } from "../../lib/server/connection.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("probe_heap: run with --v8-flags=--expose-gc");
const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 10_000);
const kvAt = Deno.args.indexOf("--kv");
const kv = await Deno.openKv(kvAt >= 0 ? Deno.args[kvAt + 1] : ":memory:");
/** At most this many connects (and joins) in flight, as from real clients. */
const batchAt = Deno.args.indexOf("--batch");
const batch = batchAt >= 0 ? Number(Deno.args[batchAt + 1]) : n;

const heap = () => {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
};

class FakeSocket implements SocketLike {
  readyState = 1;
  sent = 0;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: (() => void) | null = null;
  send(_text: string): void {
    this.sent++;
  }
  close(): void {
    this.readyState = 3;
  }
}

const hub = createHub({
  kv,
  security: {
    ...SECURITY_DEFAULTS,
    maxConnectionsPerIp: 1e6,
    maxJoinsPerMinute: 1e6,
    maxConnectsPerMinute: 1e6,
    maxUsersPerRoom: 1e6,
  },
});
await hub.cluster.ready;
const sockets: FakeSocket[] = [];
// Warm up the code paths, then measure.
const h0 = heap();
const r0 = Deno.memoryUsage().rss;
const t0 = Deno.memoryUsage().heapTotal;
const tConnect = performance.now();
const connections = [];
for (let i = 0; i < n; i++) {
  const socket = new FakeSocket();
  sockets.push(socket);
  connections.push(
    hub.sessions.accept(
      socket as unknown as SocketLike & Pick<WebSocket, "onmessage" | "onclose" | "onerror">,
      {
        cid: `cid:${crypto.randomUUID().replaceAll("-", "")}`,
        user_id: crypto.randomUUID(),
        name: `Guest ${i}`,
      },
    ),
  );
  if ((i + 1) % batch === 0) await Promise.all(connections.slice(-batch).map((c) => c.queue));
}
await Promise.all(connections.map((c) => c.queue));
const connectMs = performance.now() - tConnect;
const h1 = heap();
const r1 = Deno.memoryUsage().rss;
const t1 = Deno.memoryUsage().heapTotal;
// Sockets alone (the fake ones) cost this much; subtract it.
const hSockets = (() => {
  const extra = Array.from({ length: n }, () => new FakeSocket());
  const before = heap();
  extra.length = 0;
  return before;
})();
const join = (socket: FakeSocket, i: number) =>
  socket.onmessage!(
    new MessageEvent("message", { data: `{"type":"join","id":1,"group":"g${i % 100}"}` }),
  );
const tJoin = performance.now();
for (let i = 0; i < n; i += batch) {
  sockets.slice(i, i + batch).forEach((s, j) => join(s, i + j));
  await Promise.all(connections.slice(i, i + batch).map((c) => c.queue));
}
const joinMs = performance.now() - tJoin;
const h2 = heap();
const r2 = Deno.memoryUsage().rss;
const t2 = Deno.memoryUsage().heapTotal;
console.log(JSON.stringify({
  n,
  connectMs,
  joinMs,
  connectedHeapPerConn: (h1 - h0) / n,
  joinedHeapPerConn: (h2 - h0) / n,
  fakeSocketBytes: (hSockets - h1) / n,
  connectedRssPerConn: (r1 - r0) / n,
  joinedRssPerConn: (r2 - r0) / n,
  connectedHeapTotalPerConn: (t1 - t0) / n,
  joinedHeapTotalPerConn: (t2 - t0) / n,
  notices: sockets.reduce((s, x) => s + x.sent, 0),
}));
await hub.close();
kv.close();
