// Over 300 lines: the fault harness (KV locks, crashes, stalled readers, silent sockets), one concern.
/**
 * Faults on demand, for tests of what Parley promises when things break:
 * a KV write stall (another process holding the SQLite file's write lock),
 * a crash (SIGKILL of a server at a chosen moment), a client that stops
 * reading (a raw TCP WebSocket that reads its welcome and nothing more), and
 * a socket that goes silent (see `startProxy(...).silence()` in proxy.ts).
 *
 * @module
 */
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import type { RunningApp } from "./server.ts";

/** A lock held on a KV file by another process. */
export interface KvLock extends AsyncDisposable {
  /** Lets go of the lock (ends the holding process); idempotent. */
  release(): Promise<void>;
  /** Settles once the lock has ended, by itself after its `ms` or by `release()`. */
  ended: Promise<void>;
}

/**
 * Holds `BEGIN EXCLUSIVE` on the SQLite file at `kvPath` for `ms` (or until
 * released), from a python3 process: every KV commit of the servers on that
 * file fails with "database is locked" or waits meanwhile. Resolves once
 * the lock is held.
 *
 * @example
 * ```ts ignore
 * await using lock = await lockKv(app.kvPath, 6_000);
 * ```
 */
export async function lockKv(kvPath: string, ms: number): Promise<KvLock> {
  const script = [
    "import sqlite3, sys, time",
    "db = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)",
    'db.execute("BEGIN EXCLUSIVE")',
    'print("locked", flush=True)',
    "end = time.time() + float(sys.argv[2]) / 1000",
    "while time.time() < end: time.sleep(0.05)",
    'db.execute("COMMIT")',
  ].join("\n");
  const child = new Deno.Command("python3", {
    args: ["-c", script, kvPath, String(ms)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  if (!first.value?.includes("locked")) {
    const status = await child.status;
    const stderr = await new Response(child.stderr).text();
    throw new Error(`lockKv: no lock on ${kvPath} (exit ${status.code}): ${stderr}`);
  }
  const finished = (async () => {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await child.status;
  })();
  let released: Promise<void> | undefined;
  const release = () =>
    released ??= (async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* already done */ }
      await finished;
    })();
  return { release, ended: finished, [Symbol.asyncDispose]: release };
}

/**
 * Kills a running app with SIGKILL at once (no goodbye, no cleanup: its
 * memory, and whatever only it held, is gone) and waits until it is gone.
 * The app is one process whatever its isolates (`deno serve --parallel`
 * runs them as threads of it), so this is the whole group's death; call it
 * at the moment the test chooses (after an ack, inside a KV stall…).
 *
 * @example
 * ```ts ignore
 * await crash(app);
 * await using again = await startApp({ kvPath: app.kvPath, port: app.port });
 * ```
 */
export async function crash(app: RunningApp): Promise<void> {
  try {
    Deno.kill(app.pid, "SIGKILL");
  } catch { /* already gone */ }
  await app.stop();
}

/** A WebSocket client that read its welcome and then stopped reading. */
export interface StalledReader extends AsyncDisposable {
  welcome: Extract<ServerFrame, { type: "welcome" }>;
  conn: Deno.TcpConn;
  /**
   * Reads everything the server queued, until it closes; resolves to the
   * close code of the server's close frame (null when it sent none).
   */
  drain(timeoutMs?: number): Promise<{ code: number | null; frames: number }>;
  close(): void;
}

const encoder = new TextEncoder();

/** One unmasked server frame: its opcode and payload, parsed from `buffer` at `at`. */
function parseFrame(
  buffer: Uint8Array,
  at: number,
): { opcode: number; payload: Uint8Array; end: number } | null {
  if (buffer.length - at < 2) return null;
  const opcode = buffer[at] & 0x0f;
  let length = buffer[at + 1] & 0x7f;
  let start = at + 2;
  if (length === 126) {
    if (buffer.length - at < 4) return null;
    length = (buffer[at + 2] << 8) | buffer[at + 3];
    start = at + 4;
  } else if (length === 127) {
    if (buffer.length - at < 10) return null;
    length = Number(new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8).getBigUint64(0));
    start = at + 10;
  }
  if (buffer.length < start + length) return null;
  return { opcode, payload: buffer.subarray(start, start + length), end: start + length };
}

/**
 * A masked client frame (`opcode` 1 text, 8 close…) with `payload`, as a
 * browser would send it; for tests that must send what Deno's `WebSocket`
 * will not (invalid UTF-8, a frame cut short).
 *
 * @example
 * ```ts ignore
 * await conn.write(clientFrame(1, new Uint8Array([0xff])));
 * ```
 */
export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const header = n < 126
    ? [0x80 | opcode, 0x80 | n]
    : n < 65536
    ? [0x80 | opcode, 0x80 | 126, n >> 8, n & 255]
    : [
      0x80 | opcode,
      0x80 | 127,
      0,
      0,
      0,
      0,
      (n >>> 24) & 255,
      (n >>> 16) & 255,
      (n >>> 8) & 255,
      n & 255,
    ];
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(header.length + 4 + n);
  frame.set(header);
  frame.set(mask, header.length);
  for (let i = 0; i < n; i++) frame[header.length + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** A WebSocket spoken by hand over TCP, for clients Deno's `WebSocket` cannot play. */
export interface RawWebSocket {
  conn: Deno.TcpConn;
  /** The next whole frame the server sent (null once the connection ended). */
  next(): Promise<{ opcode: number; payload: Uint8Array } | null>;
  /** The next text frame, parsed (pings and other frames skipped). */
  nextJson<T = ServerFrame>(): Promise<T | null>;
  /** Sends a masked frame (`opcode` 1 text by default). */
  send(payload: Uint8Array | string, opcode?: number): Promise<void>;
  close(): void;
}

/**
 * Opens `url` (`ws://127.0.0.1:PORT/path?query`) over a raw TCP socket and
 * does the WebSocket handshake; reads only when asked.
 *
 * @throws {Error} When the upgrade is refused (the status line says how).
 *
 * @example
 * ```ts ignore
 * const ws = await rawWebSocket(`${app.wsUrl}?name=raw`);
 * const welcome = await ws.nextJson();
 * ```
 */
export async function rawWebSocket(url: string): Promise<RawWebSocket> {
  const target = new URL(url);
  const conn = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(encoder.encode(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let buffer = new Uint8Array(0);
  const readMore = async () => {
    const chunk = new Uint8Array(64 * 1024);
    const n = await conn.read(chunk).catch(() => null);
    if (n === null) return false;
    const grown = new Uint8Array(buffer.length + n);
    grown.set(buffer);
    grown.set(chunk.subarray(0, n), buffer.length);
    buffer = grown;
    return true;
  };
  let headerEnd = -1;
  while (headerEnd < 0) {
    if (!await readMore()) throw new Error("rawWebSocket: closed during the handshake");
    headerEnd = new TextDecoder().decode(buffer).indexOf("\r\n\r\n");
  }
  const status = new TextDecoder().decode(buffer.subarray(0, 12));
  if (!status.includes(" 101")) {
    conn.close();
    throw new Error(`rawWebSocket: upgrade refused: ${status}`);
  }
  buffer = buffer.slice(headerEnd + 4);
  const next = async () => {
    for (;;) {
      const frame = parseFrame(buffer, 0);
      if (frame) {
        const payload = frame.payload.slice();
        buffer = buffer.slice(frame.end);
        return { opcode: frame.opcode, payload };
      }
      if (!await readMore()) return null;
    }
  };
  let closed = false;
  return {
    conn,
    next,
    async nextJson<T>() {
      for (let frame; (frame = await next()) !== null;) {
        if (frame.opcode === 1) return JSON.parse(new TextDecoder().decode(frame.payload)) as T;
        if (frame.opcode === 8) return null;
      }
      return null;
    },
    async send(payload, opcode = 1) {
      const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
      const frame = clientFrame(opcode, bytes);
      for (let rest = frame; rest.length > 0;) rest = rest.subarray(await conn.write(rest));
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/**
 * Opens `url` over a raw TCP socket, does the WebSocket handshake, reads the
 * welcome and then reads nothing more: a client the server can only fill up
 * (Deno's `WebSocket` always reads).
 *
 * @example
 * ```ts ignore
 * await using slow = await stalledReader(`${app.wsUrl}?name=slow`);
 * ```
 */
export async function stalledReader(url: string): Promise<StalledReader> {
  const ws = await rawWebSocket(url);
  const welcome = await ws.nextJson<StalledReader["welcome"]>();
  if (welcome?.type !== "welcome") throw new Error("stalledReader: closed before the welcome");
  const drain = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let frames = 0;
    while (Date.now() < deadline) {
      const frame = await ws.next();
      if (frame === null) break;
      if (frame.opcode === 8) {
        const code = frame.payload.length >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : null;
        return { code, frames };
      }
      frames++;
    }
    return { code: null, frames };
  };
  return {
    welcome,
    conn: ws.conn,
    drain,
    close: ws.close,
    [Symbol.asyncDispose]: () => Promise.resolve(ws.close()),
  };
}

/**
 * The resident memory of process `pid` in bytes (`VmRSS` of /proc/PID/status).
 *
 * @example
 * ```ts ignore
 * const before = await rssOf(app.pid);
 * ```
 */
export async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`rssOf: no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}
