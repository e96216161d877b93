/**
 * Abuse limits per client address: open sockets, and joins per minute. Both
 * are counted by this isolate in memory (a flood lands on few isolates and
 * must be refused without a KV round trip); users per room is counted in KV
 * (see `admission.ts`).
 *
 * @module
 */
import { TokenBucket } from "./rate_limit.ts";

/** Where a request came from, as `Deno.serve` tells it. */
export type RemoteInfo = { remoteAddr?: Deno.Addr } | undefined;

/** The `for=` addresses of a `Forwarded` header (RFC 7239), in order; ports and brackets dropped. */
function forwardedFor(header: string): string[] {
  const hops: string[] = [];
  for (const element of header.split(",")) {
    const match = element.match(/(?:^|;)\s*for\s*=\s*("?)([^";,]+)\1/i);
    if (!match) continue;
    let value = match[2].trim();
    if (value.startsWith("[")) value = value.slice(1, value.indexOf("]"));
    else if (/^[0-9.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
    hops.push(value.toLowerCase());
  }
  return hops;
}

/**
 * The client's address: the socket's peer, unless that peer is one of
 * `trusted.proxies` — then the rightmost address of `Forwarded` (else
 * `X-Forwarded-For`) that is not itself a trusted proxy (the ones to its
 * left are the client's to forge). The older `trusted.hops` (a count of
 * proxies that each append to `X-Forwarded-For`) takes the entry that many
 * places from the right, from any peer.
 *
 * @example
 * ```ts
 * import { clientAddress } from "./abuse.ts";
 * const req = new Request("http://x/", { headers: { "x-forwarded-for": "1.2.3.4, 10.0.0.1" } });
 * const info = { remoteAddr: { transport: "tcp", hostname: "10.0.0.2", port: 1 } } as const;
 * clientAddress(req, info, { proxies: ["10.0.0.2", "10.0.0.1"] }); // "1.2.3.4"
 * clientAddress(req, info, { proxies: [] }); // "10.0.0.2": the header is ignored
 * ```
 */
export function clientAddress(
  req: Request,
  info: RemoteInfo,
  trusted: { hops?: number; proxies?: readonly string[] } = {},
): string {
  const addr = info?.remoteAddr;
  const peer = addr && "hostname" in addr ? addr.hostname.toLowerCase() : "unknown";
  const hops = trusted.hops ?? 0;
  const forwardedHops = () => {
    const forwarded = req.headers.get("forwarded");
    if (forwarded) return forwardedFor(forwarded);
    return (req.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim().toLowerCase())
      .filter(Boolean);
  };
  const proxies = trusted.proxies ?? [];
  if (proxies.includes(peer)) {
    const chain = forwardedHops();
    for (let i = chain.length - 1; i >= 0; i--) {
      if (!proxies.includes(chain[i])) return chain[i];
    }
    return chain[0] ?? peer;
  }
  if (hops > 0) {
    const chain = (req.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim())
      .filter(Boolean);
    const entry = chain.at(-hops) ?? chain[0];
    if (entry) return entry;
  }
  return peer;
}

/**
 * Frees a socket's per-address slot (`release`, idempotent) when it closes —
 * and at once when the server closes it, without waiting for a close
 * handshake that a client which never reads would never finish.
 *
 * @example
 * ```ts ignore
 * const { socket, response } = Deno.upgradeWebSocket(req);
 * releaseOnClose(socket, ticket.release);
 * ```
 */
export function releaseOnClose(
  socket: Pick<WebSocket, "close" | "addEventListener">,
  release: () => void,
): void {
  socket.addEventListener("close", () => release());
  const close = socket.close.bind(socket);
  socket.close = (code?: number, reason?: string) => {
    release();
    close(code, reason);
  };
}

/**
 * Open sockets per address.
 *
 * @example
 * ```ts
 * import { ConnectionCounter } from "./abuse.ts";
 * const counter = new ConnectionCounter(2);
 * const release = counter.acquire("1.2.3.4");
 * release?.();
 * ```
 */
export class ConnectionCounter {
  #open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** How many sockets `address` has open. */
  count(address: string): number {
    return this.#open.get(address) ?? 0;
  }

  /** Counts one more socket of `address`; null when it is at the limit. The release is idempotent. */
  acquire(address: string): (() => void) | null {
    const open = this.count(address);
    if (open >= this.max) return null;
    this.#open.set(address, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(address) - 1;
      if (left > 0) this.#open.set(address, left);
      else this.#open.delete(address);
    };
  }
}

/**
 * Joins per address per minute: a token bucket of `perMinute` tokens that
 * refills at `perMinute / 60` a second. Idle addresses are forgotten.
 *
 * @example
 * ```ts
 * import { PerMinuteLimiter } from "./abuse.ts";
 * const joins = new PerMinuteLimiter(120);
 * if (!joins.take("1.2.3.4")) console.log("too many joins");
 * ```
 */
export class PerMinuteLimiter {
  #buckets = new Map<string, { bucket: TokenBucket; used: number }>();
  #calls = 0;

  constructor(readonly perMinute: number, private readonly now = () => performance.now()) {}

  /** Takes one join of `address`; false when it must be refused. */
  take(address: string): boolean {
    const now = this.now();
    if (++this.#calls % 1024 === 0) this.#forget(now);
    let entry = this.#buckets.get(address);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.perMinute / 60, this.perMinute, this.now), used: now };
      this.#buckets.set(address, entry);
    }
    entry.used = now;
    return entry.bucket.take();
  }

  /** A bucket untouched for a minute is full again: drop it. */
  #forget(now: number): void {
    for (const [address, entry] of this.#buckets) {
      if (now - entry.used > 60_000) this.#buckets.delete(address);
    }
  }
}
