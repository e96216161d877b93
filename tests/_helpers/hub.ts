/**
 * A real hub on a real `Deno.serve` (port 0) over a real in-memory KV, and
 * a raw WebSocket client that records every frame, for server tests.
 *
 * @module
 */
import {
  type ClusterSettings,
  createHub,
  type Hub,
  listRooms,
  listRoomUsers,
} from "../../lib/server/mod.ts";
import { securityFromEnv, type SecuritySettings } from "../../lib/server/settings.ts";
import type { Limits, ServerFrame } from "../../lib/protocol/mod.ts";
import { LIFTED_LIMITS } from "./limits.ts";

/**
 * The security settings of test hubs: the defaults, but every test client
 * shares 127.0.0.1, so the per-address and per-room limits are out of the
 * way ({@linkcode LIFTED_LIMITS}, read as the app reads its environment)
 * unless a test sets them.
 */
export const TEST_SECURITY: SecuritySettings = securityFromEnv(LIFTED_LIMITS);

/** A hub served on loopback. */
export interface TestHub extends AsyncDisposable {
  hub: Hub;
  kv: Deno.Kv;
  /** `ws://127.0.0.1:PORT/api/realtime` */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a fresh hub on 127.0.0.1 with its own in-memory KV.
 *
 * @example
 * ```ts ignore
 * await using server = await startHub({ limits: { heartbeatMs: 100 } });
 * ```
 */
export async function startHub(
  options: {
    limits?: Partial<Limits>;
    kv?: Deno.Kv;
    isolate?: string;
    cluster?: Partial<ClusterSettings>;
    /** Tokens, origins, abuse limits; the environment's are ignored unless named here. */
    security?: Partial<SecuritySettings>;
  } = {},
): Promise<TestHub> {
  const kv = options.kv ?? await Deno.openKv(":memory:");
  const hub = createHub({
    kv,
    limits: options.limits,
    isolate: options.isolate,
    cluster: options.cluster,
    security: { ...TEST_SECURITY, ...options.security },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => {
      // The lists over HTTP, as the app's /api/rooms routes serve them.
      const path = new URL(req.url).pathname;
      if (path === "/api/rooms") return listRooms(hub, req);
      const room = path.match(/^\/api\/rooms\/([^/]+)$/)?.[1];
      if (room) return listRoomUsers(hub, req, decodeURIComponent(room));
      return hub.handle(req, info);
    },
  );
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      await hub.close();
      await server.shutdown();
      if (!options.kv) kv.close();
    })();
  return {
    hub,
    kv,
    url: `ws://127.0.0.1:${server.addr.port}/api/realtime`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A stand-in server that only welcomes each socket (a made-up cid and
 * user), then hands it to `then`: a server that ignores requests, or one
 * that closes in some way, for the SDK's failure paths.
 *
 * @example
 * ```ts ignore
 * await using mute = serveWelcome();
 * const client = new RealtimeClient({ url: mute.url });
 * ```
 */
export function serveWelcome(then: (socket: WebSocket) => void = () => {}) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      socket.send(JSON.stringify({
        type: "welcome",
        v: 1,
        cid: "cid:" + "A".repeat(24),
        user_id: crypto.randomUUID(),
        name: "x",
        isolate: "iso-stand-in",
        heartbeat: 25_000,
        session: "s",
        resumed: false,
      }));
      then(socket);
    };
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A raw socket that records frames and can wait for one. */
export interface RawClient {
  socket: WebSocket;
  frames: ServerFrame[];
  welcome: Extract<ServerFrame, { type: "welcome" }>;
  /** Sends a value as JSON text (or a string as is). */
  send(frame: unknown): void;
  /** Resolves to the first recorded frame (from `from` on) that matches; rejects after `ms`. */
  next<T extends ServerFrame>(
    match: (frame: ServerFrame) => boolean,
    ms?: number,
    from?: number,
  ): Promise<T>;
  /** Sends a request and waits (up to `ms`) for its ack or error. */
  request(frame: Record<string, unknown>, ms?: number): Promise<ServerFrame>;
  /** Resolves when the socket has closed, with its code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

let nextId = 1_000_000;

/**
 * Opens a raw WebSocket to `url` and waits for the welcome.
 *
 * @example
 * ```ts ignore
 * const client = await rawClient(server.url, { name: "Ada" });
 * await client.request({ type: "join", group: "lobby" });
 * ```
 */
export async function rawClient(
  url: string,
  query: Record<string, string> = {},
  options: {
    ignoreNotices?: boolean;
    /** Credentials to send as the first frame (adds `hello=1` to the query). */
    hello?: Record<string, unknown>;
    /** How long to wait for the welcome. @default 5000 */
    welcomeMs?: number;
  } = {},
): Promise<RawClient> {
  const target = new URL(url);
  for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
  if (options.hello) target.searchParams.set("hello", "1");
  const socket = new WebSocket(target);
  if (options.hello) {
    const hello = { type: "hello", ...options.hello };
    socket.onopen = () => socket.send(JSON.stringify(hello));
  }
  const frames: ServerFrame[] = [];
  const waiters = new Set<() => void>();
  let closeResult: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => closeResult = r);
  socket.onmessage = (event) => {
    // Crowd tests skip the n² notices they do not look at.
    if (options.ignoreNotices && event.data.startsWith('{"type":"notice"')) return;
    frames.push(JSON.parse(event.data));
    for (const wake of [...waiters]) wake();
  };
  socket.onclose = (event) => {
    closeResult({ code: event.code, reason: event.reason });
    for (const wake of [...waiters]) wake();
  };
  const next = <T extends ServerFrame>(
    match: (frame: ServerFrame) => boolean,
    ms = 5_000,
    from = 0,
  ): Promise<T> =>
    new Promise((resolve, reject) => {
      let scanned = from;
      // Each wake-up looks only at frames that arrived since the last one.
      const check = () => {
        for (; scanned < frames.length; scanned++) {
          if (match(frames[scanned])) {
            done();
            return resolve(frames[scanned] as T);
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`No matching frame within ${ms} ms; got ${JSON.stringify(frames.slice(-5))}`),
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  // A socket closed (or refused) before its welcome fails at once, not after welcomeMs.
  const welcome = await new Promise<Extract<ServerFrame, { type: "welcome" }>>(
    (resolve, reject) => {
      const ms = options.welcomeMs ?? 5_000;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      const check = () => {
        const found = frames.find((f) => f.type === "welcome");
        if (found?.type === "welcome") {
          done();
          resolve(found);
        } else if (socket.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error("Closed before the welcome"));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`No matching frame within ${ms} ms; got ${JSON.stringify(frames.slice(-5))}`),
        );
      }, ms);
      waiters.add(check);
      check();
    },
  );
  const send = (frame: unknown) =>
    socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  return {
    socket,
    frames,
    welcome,
    send,
    next,
    closed,
    request(frame, ms) {
      const id = nextId++;
      send({ ...frame, id });
      return next((f) => (f.type === "ack" || f.type === "error") && f.id === id, ms);
    },
    async close() {
      if (socket.readyState < 2) socket.close();
      await closed;
    },
  };
}

/**
 * Opens a raw WebSocket (Deno's takes headers) and resolves to how the
 * attempt ended: "welcome", or Deno's error, which names the HTTP status of
 * a refused upgrade.
 *
 * @example
 * ```ts ignore
 * assert.equal(await upgradeAttempt(server.url), "welcome");
 * ```
 */
export function upgradeAttempt(url: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    // @ts-ignore Deno's WebSocket takes headers
    const socket = new WebSocket(url, { headers });
    let error = "";
    socket.onerror = (e) => error = (e as ErrorEvent).message;
    socket.onmessage = (e) => {
      if (String(e.data).includes('"welcome"')) {
        socket.close();
        resolve("welcome");
      }
    };
    socket.onclose = () => resolve(error || "closed");
  });
}
