/**
 * A lightweight WebSocket client over raw TCP (`Deno.connect`), for the load
 * generators: one small read buffer per socket and no per-socket machinery
 * beyond a read loop, so 5,000 sockets fit in one generator process. Text
 * frames only (what every server measured here sends); ping is answered,
 * close is answered and ends the loop. Client frames are masked as RFC 6455
 * requires (one random key per socket).
 *
 * Loopback only: {@linkcode openRaw} refuses any other host.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of {@linkcode openRaw}. */
export interface RawOptions {
  /** Called with each text frame. */
  onText?: (text: string) => void;
  /** Called once when the connection ends (either side), with the peer's close code if it sent one. */
  onClose?: (code?: number) => void;
  /** Called with each ping the server sends. */
  onPing?: () => void;
  /** Answer pings with pongs, as RFC 6455 asks (off: play a peer that stopped answering). @default true */
  answerPings?: boolean;
  /** Bytes of the read buffer. @default 16384 */
  bufferBytes?: number;
  /** Give up on the handshake after this many ms. @default 10000 */
  timeoutMs?: number;
}

/** An open raw WebSocket. */
export interface RawSocket {
  /** Sends one text frame (queued; frames of one tick go out in one write). */
  send(text: string): void;
  /** Sends a close frame and closes the TCP connection. */
  close(): void;
  /** Bytes received on the TCP connection after the handshake (frame headers included). */
  readonly bytesIn: number;
  /** Resolves when the read loop has ended. */
  readonly done: Promise<void>;
}

function header(opcode: number, length: number): Uint8Array {
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const head = new Uint8Array(size + 4);
  head[0] = 0x80 | opcode;
  if (length < 126) head[1] = 0x80 | length;
  else if (length < 65536) {
    head[1] = 0x80 | 126;
    head[2] = length >> 8;
    head[3] = length & 0xff;
  } else {
    head[1] = 0x80 | 127;
    new DataView(head.buffer).setBigUint64(2, BigInt(length));
  }
  return head;
}

/** One masked client frame. */
function frame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array {
  const head = header(opcode, payload.length);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(mask, head.length - 4);
  const base = head.length;
  for (let i = 0; i < payload.length; i++) out[base + i] = payload[i] ^ mask[i & 3];
  return out;
}

/**
 * Opens `ws://127.0.0.1:port<path>` and resolves once the server answered
 * 101 (the welcome frame, if any, arrives through `onText`).
 */
export async function openRaw(
  host: string,
  port: number,
  path: string,
  options: RawOptions = {},
): Promise<RawSocket> {
  if (host !== "127.0.0.1") throw new Error(`Cannot connect to ${host}: loopback only`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const conn = await Deno.connect({ hostname: host, port });
  conn.setNoDelay(true);
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  let buf = new Uint8Array(options.bufferBytes ?? 16384);
  let filled = 0;
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    await writeAll(conn, encoder.encode(request));
    // Read the response head.
    while (true) {
      const n = await conn.read(buf.subarray(filled));
      if (n === null) throw new Error("Connection closed during the handshake");
      filled += n;
      const end = indexOfHeadEnd(buf, filled);
      if (end >= 0) {
        const head = decoder.decode(buf.subarray(0, end));
        if (!head.startsWith("HTTP/1.1 101")) {
          throw new Error(`Handshake refused: ${head.split("\r\n")[0]}`);
        }
        buf.copyWithin(0, end + 4, filled);
        filled -= end + 4;
        break;
      }
      if (filled === buf.length) throw new Error("Handshake response too large");
    }
  } catch (error) {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
    throw error;
  }
  clearTimeout(timer);

  let closed = false;
  let bytesIn = filled;
  let queue: Uint8Array[] = [];
  let writer: Promise<void> | null = null;
  const flush = async () => {
    try {
      while (queue.length > 0 && !closed) {
        const parts = queue;
        queue = [];
        let out = parts[0];
        if (parts.length > 1) {
          let size = 0;
          for (const p of parts) size += p.length;
          out = new Uint8Array(size);
          let at = 0;
          for (const p of parts) {
            out.set(p, at);
            at += p.length;
          }
        }
        await writeAll(conn, out);
      }
    } catch {
      finish();
    }
  };
  /** Queues bytes; one writer at a time drains the queue. */
  const enqueue = (bytes: Uint8Array): Promise<void> => {
    if (closed) return Promise.resolve();
    queue.push(bytes);
    return kick();
  };
  const kick = (): Promise<void> => {
    writer ??= Promise.resolve().then(flush).finally(() => {
      writer = null;
      if (queue.length > 0 && !closed) kick();
    });
    return writer;
  };
  const finish = (code?: number) => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* closed */ }
    options.onClose?.(code);
  };

  const loop = async () => {
    let fragments: Uint8Array[] = [];
    try {
      while (!closed) {
        // Parse every complete frame in the buffer.
        let at = 0;
        while (filled - at >= 2) {
          const b0 = buf[at], b1 = buf[at + 1];
          let length = b1 & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (filled - at < 4) break;
            length = (buf[at + 2] << 8) | buf[at + 3];
            offset = 4;
          } else if (length === 127) {
            if (filled - at < 10) break;
            length = Number(new DataView(buf.buffer, at + 2, 8).getBigUint64(0));
            offset = 10;
          }
          if (filled - at < offset + length) {
            if (offset + length > buf.length) {
              const bigger = new Uint8Array(Math.max(buf.length * 2, offset + length));
              bigger.set(buf.subarray(at, filled));
              filled -= at;
              at = 0;
              buf = bigger;
            }
            break;
          }
          const payload = buf.subarray(at + offset, at + offset + length);
          at += offset + length;
          const opcode = b0 & 0x0f;
          const fin = (b0 & 0x80) !== 0;
          if (opcode === 1 || opcode === 0) {
            if (!fin || fragments.length > 0) {
              fragments.push(payload.slice());
              if (!fin) continue;
              const all = new Uint8Array(fragments.reduce((s, f) => s + f.length, 0));
              let p = 0;
              for (const f of fragments) {
                all.set(f, p);
                p += f.length;
              }
              fragments = [];
              options.onText?.(decoder.decode(all));
            } else {
              options.onText?.(decoder.decode(payload));
            }
          } else if (opcode === 9) {
            options.onPing?.();
            if (options.answerPings ?? true) enqueue(frame(10, payload.slice(), mask));
          } else if (opcode === 8) {
            const code = length >= 2 ? (payload[0] << 8) | payload[1] : undefined;
            await enqueue(frame(8, payload.slice(0, 2), mask));
            finish(code);
            return;
          }
        }
        if (at > 0) {
          buf.copyWithin(0, at, filled);
          filled -= at;
        }
        const n = await conn.read(buf.subarray(filled));
        if (n === null) break;
        bytesIn += n;
        filled += n;
      }
    } catch {
      // Reset or closed locally.
    }
    finish();
  };
  const done = loop();

  return {
    send(text: string) {
      enqueue(frame(1, encoder.encode(text), mask));
    },
    close() {
      if (closed) return;
      enqueue(frame(8, new Uint8Array([0x03, 0xe8]), mask)).finally(finish);
    },
    get bytesIn() {
      return bytesIn;
    },
    done,
  };
}

function indexOfHeadEnd(buf: Uint8Array, filled: number): number {
  for (let i = 0; i + 3 < filled; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}
