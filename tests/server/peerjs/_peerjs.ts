/**
 * A real PeerJS face on a real hub on a real `Deno.serve` (port 0), and a
 * raw PeerJS socket that records every frame, for the PeerJS server tests.
 *
 * @module
 */
import type { Limits, PeerjsServerFrame } from "../../../lib/protocol/mod.ts";
import type { ClusterSettings } from "../../../lib/server/mod.ts";
import { createPeerjsServer, type PeerjsServer } from "../../../lib/server/peerjs/mod.ts";
import type { PeerjsSettings, SecuritySettings } from "../../../lib/server/settings.ts";
import { startHub, type TestHub } from "../../_helpers/hub.ts";

/** A PeerJS server on loopback. */
export interface TestPeerjs extends AsyncDisposable {
  server: TestHub;
  peerjs: PeerjsServer;
  /** `ws://127.0.0.1:PORT/peerjs/peerjs` */
  url: string;
  close(): Promise<void>;
}

/** Serves a hub with its PeerJS face at `/peerjs/peerjs` (the hub's own `/api/realtime` too). */
export async function startPeerjs(options: {
  settings?: Partial<PeerjsSettings>;
  limits?: Partial<Limits>;
  security?: Partial<SecuritySettings>;
  cluster?: Partial<ClusterSettings>;
  kv?: Deno.Kv;
  isolate?: string;
} = {}): Promise<TestPeerjs> {
  const server = await startHub({ ...options, cluster: { broadcast: false, ...options.cluster } });
  const peerjs = createPeerjsServer({
    hub: server.hub,
    settings: { enabled: true, key: "peerjs", discovery: false, ...options.settings },
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => peerjs.handle(req, info),
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      await peerjs.close();
      await http.shutdown();
      await server.close();
    })();
  return {
    server,
    peerjs,
    url: `ws://127.0.0.1:${http.addr.port}/peerjs/peerjs`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A raw PeerJS socket. */
export interface PeerSocket {
  socket: WebSocket;
  frames: PeerjsServerFrame[];
  send(frame: unknown): void;
  /** The first frame (from `from` on) that matches; rejects after `ms`. */
  next(match: (frame: PeerjsServerFrame) => boolean, ms?: number, from?: number): Promise<
    PeerjsServerFrame
  >;
  /** Resolves once the socket has closed. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens `url?key=&id=&token=` (each may be left out with null) and waits for it to open. */
export async function peerSocket(
  url: string,
  params: { id?: string | null; token?: string | null; key?: string | null },
): Promise<PeerSocket> {
  const target = new URL(url);
  const { id = null, token = null, key = "peerjs" } = params;
  for (const [name, value] of Object.entries({ key, id, token })) {
    if (value !== null) target.searchParams.set(name, value);
  }
  const socket = new WebSocket(target);
  const frames: PeerjsServerFrame[] = [];
  const wakers = new Set<() => void>();
  let closedNow!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => closedNow = r);
  socket.onmessage = (event) => {
    frames.push(JSON.parse(event.data));
    for (const wake of [...wakers]) wake();
  };
  socket.onclose = (event) => closedNow({ code: event.code, reason: event.reason });
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = (e) => reject(new Error((e as ErrorEvent).message));
  });
  const next = (match: (frame: PeerjsServerFrame) => boolean, ms = 5_000, from = 0) =>
    new Promise<PeerjsServerFrame>((resolve, reject) => {
      const check = () => {
        const found = frames.slice(from).find(match);
        if (!found) return;
        done();
        resolve(found);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`No matching frame within ${ms} ms; got ${JSON.stringify(frames)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      wakers.add(check);
      check();
    });
  return {
    socket,
    frames,
    send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    next,
    closed,
    async close() {
      if (socket.readyState < 2) socket.close();
      await closed;
    },
  };
}

/** Opens a peer and waits for its `OPEN`. */
export async function openPeer(url: string, id: string, token = `t-${id}`): Promise<PeerSocket> {
  const peer = await peerSocket(url, { id, token });
  await peer.next((f) => f.type === "OPEN");
  return peer;
}

/** Waits `ms`. */
export { sleep } from "../../_helpers/wait.ts";
