// Over 300 lines: every traffic shape of the load generator, run as one process.
/**
 * The load generator: one process, one job, driven by `run.ts`. It speaks
 * the wire of Parley, of the PeerJS server, or of the floor, to 127.0.0.1
 * only, and prints JSON lines on stdout: `{"event":…}` as it goes and one
 * `{"event":"result",…}` at the end. Every loop is bounded in time.
 *
 * Usage: `deno run -A tests/bench/gen.ts '<job as JSON>'` (see {@linkcode Job}).
 *
 * Jobs:
 * - `relay`: closed-loop ping-pong between `pairs` pairs (A → B → A, one
 *   message in flight per pair); messages/s and the round trips.
 * - `flood`: one Parley client sends 1,000 posts/s under the default limit.
 * - `idle`: opens `count` sockets (Parley: and joins one of `groups` groups),
 *   says `ready`, holds them until `stop` arrives on stdin.
 * - `storm`: `count` sockets join one group at once; time until every
 *   client has seen every later join, and the bytes each received.
 * - `cluster`: pairs whose two ends sit on different isolates; round trips.
 *
 * @module
 */
import { openRaw } from "./ws_raw.ts";
import { RealtimeClient } from "../../lib/sdk/mod.ts";
import { sleep } from "../_helpers/wait.ts";

/** Which server a job talks to. */
/** `parley-peerjs`: Parley spoken to in the PeerJS wire, at its `/peerjs`. */
export type ServerKind = "parley" | "peerjs" | "floor" | "parley-peerjs";

/** What `run.ts` asks of one generator process. */
export interface Job {
  mode: "relay" | "flood" | "idle" | "storm" | "cluster";
  server: ServerKind;
  port: number;
  /** relay: how many pairs. */
  pairs?: number;
  /** relay: the client: raw TCP frames, Deno's WebSocket, or (Parley) the SDK. @default "raw" */
  client?: "raw" | "ws" | "sdk";
  /**
   * relay: what Parley relays: acked `post`s to a user_id, or RTC `signal`s
   * (candidates, sent without `id`, so unacked: protocol v3) to a cid. The
   * others relay the same frame either way.
   * @default "post"
   */
  frames?: "post" | "signal";
  warmupMs?: number;
  measureMs?: number;
  /** idle, storm: how many sockets. */
  count?: number;
  /** idle: how many groups (Parley only). */
  groups?: number;
  /** idle: index of this generator's first socket (ids and groups). */
  offset?: number;
  /** idle: longest hold before closing anyway (ms). */
  holdMs?: number;
  /** Handshakes in flight at once. @default 64 */
  concurrency?: number;
}

const HOST = "127.0.0.1";
const PAYLOAD = JSON.stringify({ kind: "ping", pad: "x".repeat(48) });
/** The payload as a JSON string, made once: the generator's own cost must not weigh on one row. */
const PAYLOAD_AS_STRING = JSON.stringify(PAYLOAD);

function emit(value: Record<string, unknown>): void {
  console.log(JSON.stringify(value));
}

/** The wire of each server: how to connect, what means ready, how to send to someone. */
interface Wire {
  path(id: string, index: number): string;
  isReady(text: string): boolean;
  to(id: string, seq: number, payload: string): string;
  isDelivery(text: string): boolean;
  /** The address `to` takes for a connection whose ready frame was `first` (default: its id). */
  address?(id: string, first: string): string;
}

const WIRES: Record<ServerKind, Wire> = {
  parley: {
    // The server issues the user_id (the welcome's); a claimed one is ignored.
    // v2: coalesced notices; v3: unacked signals.
    path: () => `/api/realtime?v=3`,
    isReady: (t) => t.startsWith('{"type":"welcome"'),
    to: (id, seq, payload) =>
      `{"type":"post","id":${seq},"message":${payload},"recipient":"${id}"}`,
    isDelivery: (t) => t.startsWith('{"type":"private"'),
  },
  peerjs: {
    path: (id, i) => `/peerjs?key=peerjs&id=${id}&token=t${i}`,
    isReady: (t) => t.startsWith('{"type":"OPEN"'),
    to: (id, _seq, payload) => `{"type":"OFFER","dst":"${id}","payload":${payload}}`,
    isDelivery: (t) => t.startsWith('{"type":"OFFER"'),
  },
  "parley-peerjs": {
    path: (id, i) => `/peerjs/peerjs?key=peerjs&id=${id}&token=t${i}`,
    isReady: (t) => t.startsWith('{"type":"OPEN"'),
    to: (id, _seq, payload) => `{"type":"OFFER","dst":"${id}","payload":${payload}}`,
    isDelivery: (t) => t.startsWith('{"type":"OFFER"'),
  },
  floor: {
    path: (id) => `/?id=${id}`,
    isReady: (t) => t.startsWith('{"type":"OPEN"'),
    // The id is acked by a floor started with --ack, ignored otherwise.
    to: (id, seq, payload) => `{"dst":"${id}","id":${seq},"payload":${payload}}`,
    isDelivery: (t) => t.startsWith('{"type":"msg"'),
  },
};

/**
 * Parley relaying RTC signals (ICE candidates of the same size) to a cid,
 * as the SDK sends them: without `id`, so no ack comes back (protocol v3).
 */
const PARLEY_SIGNALS: Wire = {
  ...WIRES.parley,
  to: (cid, _seq, payload) =>
    `{"type":"signal","to":"${cid}","signal":{"kind":"candidate","call":"bench","candidate":{"candidate":${
      payload === PAYLOAD ? PAYLOAD_AS_STRING : JSON.stringify(payload)
    }}}}`,
  isDelivery: (t) => t.startsWith('{"type":"signal"'),
  address: (_id, first) => /"cid":"([^"]+)"/.exec(first)?.[1] ?? "",
};

/** The wire a relay job speaks. */
function wireOf(job: Job): Wire {
  return job.server === "parley" && job.frames === "signal" ? PARLEY_SIGNALS : WIRES[job.server];
}

/** A connected client of any kind. */
interface Client {
  id: string;
  /** What the server says this connection is (Parley: the welcome). */
  first: string;
  send(text: string): void;
  close(): void;
  bytesIn(): number;
  /** Replaced by the job once connected. */
  onText: (text: string) => void;
}

/** Opens one client and resolves on its ready frame (welcome / OPEN). */
async function connect(
  job: Job,
  index: number,
  id: string,
  kind: "raw" | "ws",
  bufferBytes: number,
): Promise<Client> {
  const wire = WIRES[job.server];
  const path = wire.path(id, index);
  let readyResolve!: (text: string) => void;
  let readyReject!: (error: Error) => void;
  const ready = new Promise<string>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  let gotReady = false;
  const client: Client = {
    id,
    first: "",
    send: () => {},
    close: () => {},
    bytesIn: () => 0,
    onText: () => {},
  };
  const onText = (text: string) => {
    if (!gotReady) {
      if (wire.isReady(text)) {
        gotReady = true;
        readyResolve(text);
      } else if (text.includes('"ERROR"') || text.includes('"error"')) {
        readyReject(new Error(`refused: ${text.slice(0, 200)}`));
      }
      return;
    }
    client.onText(text);
  };
  const onClose = () => {
    if (!gotReady) readyReject(new Error("closed before ready"));
  };
  if (kind === "raw") {
    const raw = await openRaw(HOST, job.port, path, { onText, onClose, bufferBytes });
    client.send = (t) => raw.send(t);
    client.close = () => raw.close();
    client.bytesIn = () => raw.bytesIn;
  } else {
    const socket = new WebSocket(`ws://${HOST}:${job.port}${path}`);
    let bytes = 0;
    socket.onmessage = (e) => {
      bytes += (e.data as string).length;
      onText(e.data);
    };
    socket.onclose = onClose;
    socket.onerror = () => {};
    client.send = (t) => socket.readyState === WebSocket.OPEN && socket.send(t);
    client.close = () => socket.readyState < 2 && socket.close();
    client.bytesIn = () => bytes;
  }
  const timer = setTimeout(() => readyReject(new Error("no ready frame in 20 s")), 20_000);
  try {
    client.first = await ready;
    // Parley issues the identity: the id to send to is the welcome's user_id.
    if (job.server === "parley") client.id = JSON.parse(client.first).user_id;
  } catch (error) {
    client.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** Opens `count` clients with at most `concurrency` handshakes in flight. */
async function connectMany(
  job: Job,
  count: number,
  kind: "raw" | "ws",
  bufferBytes: number,
  offset = 0,
): Promise<{ clients: Client[]; failed: number; firstError: string | null }> {
  const clients: Client[] = new Array(count);
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        clients[i] = await connect(job, offset + i, crypto.randomUUID(), kind, bufferBytes);
      } catch (error) {
        failed++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency ?? 64, count) }, worker));
  return { clients: clients.filter(Boolean), failed, firstError };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return sorted[i];
}

/** Round trips kept for the percentiles (enough for ~4 s at full speed). */
const MAX_SAMPLES = 4_000_000;

async function relay(job: Job): Promise<void> {
  const pairs = job.pairs ?? 1;
  const kind = job.client ?? "raw";
  const warmupMs = job.warmupMs ?? 1_000;
  const measureMs = job.measureMs ?? 4_000;
  const wire = wireOf(job);
  let phase: "warm" | "measure" | "stop" = "warm";
  let delivered = 0;
  let errors = 0;
  const rtts = new Float64Array(MAX_SAMPLES);
  let samples = 0;
  const sentAt = new Float64Array(pairs);
  let seq = 1;

  const started = performance.now();
  let ends: Array<{ send(to: string): void; id: string; onDelivery(f: () => void): void }>;
  let closeAll: () => void;
  if (kind === "sdk") {
    if (job.server !== "parley") throw new Error("the SDK speaks to Parley only");
    const url = `ws://${HOST}:${job.port}/api/realtime`;
    const sdks = await Promise.all(
      Array.from({ length: 2 * pairs }, async () => {
        const client = new RealtimeClient({ url, name: "bench" });
        let handler = () => {};
        await client.connectRealtime((event) => {
          if (event.type === "private") handler();
          else if (event.type === "error") errors++;
        });
        return { client, setHandler: (f: () => void) => (handler = f) };
      }),
    );
    ends = sdks.map(({ client, setHandler }) => ({
      id: client.signaling.welcome!.user_id,
      send: (to: string) => {
        client.postRealtime({ kind: "ping", pad: "x".repeat(48) }, to).catch(() => errors++);
      },
      onDelivery: setHandler,
    }));
    closeAll = () => sdks.forEach(({ client }) => client.closeRealtime());
  } else {
    const { clients, failed, firstError } = await connectMany(job, 2 * pairs, kind, 65536);
    if (failed > 0) throw new Error(`${failed} clients failed to connect: ${firstError}`);
    ends = clients.map((c) => ({
      id: wire.address?.(c.id, c.first) ?? c.id,
      send: (to: string) => c.send(wire.to(to, seq++, PAYLOAD)),
      onDelivery: (f: () => void) => {
        c.onText = (text) => {
          if (wire.isDelivery(text)) f();
          else if (text.startsWith('{"type":"error"')) errors++;
        };
      },
    }));
    closeAll = () => clients.forEach((c) => c.close());
  }
  const connectMs = performance.now() - started;

  for (let p = 0; p < pairs; p++) {
    const a = ends[2 * p], b = ends[2 * p + 1];
    a.onDelivery(() => {
      if (phase === "stop") return;
      const now = performance.now();
      if (phase === "measure") {
        delivered++;
        if (samples < MAX_SAMPLES) rtts[samples++] = now - sentAt[p];
      }
      sentAt[p] = now;
      a.send(b.id);
    });
    b.onDelivery(() => {
      if (phase === "stop") return;
      if (phase === "measure") delivered++;
      b.send(a.id);
    });
  }
  for (let p = 0; p < pairs; p++) {
    sentAt[p] = performance.now();
    ends[2 * p].send(ends[2 * p + 1].id);
  }
  await sleep(warmupMs);
  phase = "measure";
  emit({ event: "measure" });
  const t0 = performance.now();
  await sleep(measureMs);
  const seconds = (performance.now() - t0) / 1000;
  phase = "stop";
  emit({ event: "measured" });
  const sorted = rtts.slice(0, samples).sort();
  await sleep(200);
  closeAll();
  await sleep(200);
  emit({
    event: "result",
    mode: "relay",
    server: job.server,
    client: kind,
    pairs,
    connectMs: Math.round(connectMs),
    seconds,
    messages: delivered,
    msgsPerSec: delivered / seconds,
    roundTrips: samples,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
  });
}

/**
 * One Parley client floods another at 250 posts/s (5× the default limit),
 * evenly (a few every 10 ms), so that it is held to the limit rather than
 * cut off: 100 refused in a row close the socket, which a burst of over 100
 * frames in one go (a stalled timer) would cause.
 */
async function flood(job: Job): Promise<void> {
  const { clients, failed, firstError } = await connectMany(job, 2, "raw", 65536);
  if (failed > 0) throw new Error(`flood: cannot connect: ${firstError}`);
  const [a, b] = clients;
  const durationMs = job.measureMs ?? 5_000;
  const steadyFromMs = 1_000;
  let accepted = 0, rejected = 0, acceptedSteady = 0, receivedSteady = 0, closed = false;
  let sent = 0;
  const t0 = performance.now();
  a.onText = (text) => {
    const steady = performance.now() - t0 >= steadyFromMs;
    if (text.startsWith('{"type":"ack"')) {
      accepted++;
      if (steady) acceptedSteady++;
    } else if (text.includes('"RATE_LIMITED"')) rejected++;
  };
  b.onText = (text) => {
    if (text.startsWith('{"type":"private"') && performance.now() - t0 >= steadyFromMs) {
      receivedSteady++;
    }
  };
  const wire = WIRES.parley;
  // On schedule: 250 a second, whatever the timer's jitter (catch-up capped at 50 frames).
  const perMs = 0.25;
  while (performance.now() - t0 < durationMs) {
    const due = Math.min(Math.floor((performance.now() - t0) * perMs) - sent, 50);
    for (let i = 0; i < due; i++) a.send(wire.to(b.id, ++sent, PAYLOAD));
    await sleep(10);
  }
  const seconds = (performance.now() - t0) / 1000;
  await sleep(300);
  const probe = new Promise<boolean>((resolve) => {
    const prev = a.onText;
    a.onText = (text) => {
      prev(text);
      resolve(true);
    };
    setTimeout(() => resolve(false), 2_000);
  });
  a.send('{"type":"users","id":999999999,"group":"nobody"}');
  closed = !(await probe);
  a.close();
  b.close();
  emit({
    event: "result",
    mode: "flood",
    sent,
    sentPerSec: sent / seconds,
    accepted,
    rejected,
    acceptedPerSecSteady: acceptedSteady / (seconds - steadyFromMs / 1000),
    receivedPerSecSteady: receivedSteady / (seconds - steadyFromMs / 1000),
    socketClosed: closed,
  });
}

/** Opens and holds `count` sockets until `stop` on stdin (or `holdMs`). */
async function idle(job: Job): Promise<void> {
  const count = job.count ?? 1000;
  const groups = job.groups ?? 100;
  const offset = job.offset ?? 0;
  const t0 = performance.now();
  const { clients, failed, firstError } = await connectMany(job, count, "raw", 2048, offset);
  const connectMs = performance.now() - t0;
  let joinMs = 0;
  let joinFailed = 0;
  const pong = '{"type":"pong"}';
  if (job.server === "parley") {
    const t1 = performance.now();
    await Promise.all(clients.map((c, i) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          joinFailed++;
          resolve();
        }, 150_000);
        c.onText = (text) => {
          if (text.startsWith('{"type":"ack"') || text.startsWith('{"type":"error"')) {
            if (text.startsWith('{"type":"error"')) joinFailed++;
            clearTimeout(timer);
            c.onText = (t) => t === '{"type":"ping"}' && c.send(pong);
            resolve();
          }
        };
        c.send(`{"type":"join","id":1,"group":"g${(offset + i) % groups}"}`);
      })
    ));
    joinMs = performance.now() - t1;
  }
  emit({
    event: "ready",
    connected: clients.length,
    failed,
    firstError,
    joinFailed,
    connectMs: Math.round(connectMs),
    joinMs: Math.round(joinMs),
  });
  // PeerJS clients beat (the real client does every 5 s; every 25 s here, as Parley pings).
  const beat = job.server === "peerjs" || job.server === "parley-peerjs"
    ? setInterval(() => clients.forEach((c) => c.send('{"type":"HEARTBEAT"}')), 25_000)
    : undefined;
  const stop = (async () => {
    const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    while (!buffered.includes("stop")) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
    }
  })();
  await Promise.race([stop, sleep(job.holdMs ?? 180_000)]);
  clearInterval(beat);
  const bytes = clients.reduce((s, c) => s + c.bytesIn(), 0);
  for (const c of clients) c.close();
  await sleep(500);
  emit({ event: "result", mode: "idle", connected: clients.length, bytesIn: bytes });
  Deno.exit(0);
}

/** `count` sockets join one group at once. */
async function storm(job: Job): Promise<void> {
  const count = job.count ?? 1000;
  const { clients, failed, firstError } = await connectMany(job, count, "raw", 65536);
  if (failed > 0) throw new Error(`storm: ${failed} failed to connect: ${firstError}`);
  const expected = (count * (count + 1)) / 2;
  let total = 0;
  let acks = 0;
  let ackMs = 0;
  let errors = 0;
  const seen = new Int32Array(count);
  /** `notices` frames received (each carries several notices). */
  let frames = 0;
  /** Notices that came one to a frame. */
  let singles = 0;
  const base = clients.map((c) => c.bytesIn());
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const t0 = performance.now();
  clients.forEach((c, i) => {
    c.onText = (text) => {
      if (text.startsWith('{"type":"notice"') && text.includes('"USER_JOINED"')) {
        seen[i]++;
        singles++;
        if (++total === expected) finish();
      } else if (text.startsWith('{"type":"notices"')) {
        // Protocol v2: a tick's notices in one frame.
        frames++;
        const { runs } = JSON.parse(text) as { runs: Array<{ code: string; who: unknown[] }> };
        for (const run of runs) {
          if (run.code !== "USER_JOINED") continue;
          seen[i] += run.who.length;
          total += run.who.length;
        }
        if (total === expected) finish();
      } else if (text.startsWith('{"type":"ack"')) {
        if (++acks === count) ackMs = performance.now() - t0;
      } else if (text.startsWith('{"type":"error"')) errors++;
    };
  });
  const join = job.server === "parley"
    ? '{"type":"join","id":1,"group":"storm"}'
    : '{"join":"storm"}';
  for (const c of clients) c.send(join);
  const timedOut = await Promise.race([done.then(() => false), sleep(120_000).then(() => true)]);
  const ms = performance.now() - t0;
  const bytes = clients.map((c, i) => c.bytesIn() - base[i]);
  for (const c of clients) c.close();
  await sleep(300);
  emit({
    event: "result",
    mode: "storm",
    server: job.server,
    count,
    ms,
    ackMs: job.server === "parley" ? ackMs : null,
    notices: total,
    expected,
    timedOut,
    errors,
    bytesPerClient: bytes.reduce((s, b) => s + b, 0) / count,
    maxBytesPerClient: Math.max(...bytes),
    noticesPerClient: total / count,
    /** Frames that carried the notices, per client (one per notice without coalescing). */
    framesPerClient: (frames + singles) / count,
  });
}

/** Closed-loop ping-pong between raw Parley clients `[a, b]`; round trips seen by each `a`. */
async function pingPong(
  pairs: Array<[Client, Client]>,
  warmupMs: number,
  measureMs: number,
): Promise<Record<string, number | string>> {
  const wire = WIRES.parley;
  let phase: "warm" | "measure" | "stop" = "warm";
  const rtts: number[] = [];
  let delivered = 0;
  let errors = 0;
  let firstError = "";
  const sentAt = new Float64Array(pairs.length);
  let seq = 1;
  const onError = (text: string) => {
    if (text.startsWith('{"type":"error"')) {
      errors++;
      firstError ||= text.slice(0, 200);
    }
  };
  pairs.forEach(([a, b], p) => {
    a.onText = (text) => {
      if (!wire.isDelivery(text)) return onError(text);
      if (phase === "stop") return;
      const now = performance.now();
      if (phase === "measure") {
        delivered++;
        rtts.push(now - sentAt[p]);
      }
      sentAt[p] = now;
      a.send(wire.to(b.id, seq++, PAYLOAD));
    };
    b.onText = (text) => {
      if (!wire.isDelivery(text)) return onError(text);
      if (phase === "stop") return;
      if (phase === "measure") delivered++;
      b.send(wire.to(a.id, seq++, PAYLOAD));
    };
  });
  pairs.forEach(([a, b], p) => {
    sentAt[p] = performance.now();
    a.send(wire.to(b.id, seq++, PAYLOAD));
  });
  await sleep(warmupMs);
  phase = "measure";
  const t0 = performance.now();
  await sleep(measureMs);
  const seconds = (performance.now() - t0) / 1000;
  phase = "stop";
  await sleep(300);
  const sorted = Float64Array.from(rtts).sort();
  return {
    msgsPerSec: delivered / seconds,
    roundTrips: rtts.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
    firstError,
  };
}

/**
 * Pairs straddling two isolates of a `deno serve --parallel` Parley: opens
 * sockets until one isolate holds `3 × pairs` and another `pairs` (the
 * welcome names the isolate), then runs ping-pong across the two isolates,
 * and the same between sockets of one isolate, for reference.
 */
async function cluster(job: Job): Promise<void> {
  const pairs = job.pairs ?? 1;
  const byIsolate = new Map<string, Client[]>();
  const all: Client[] = [];
  const deadline = performance.now() + 30_000;
  const pick = () => {
    const lists = [...byIsolate.values()].sort((x, y) => y.length - x.length);
    return lists.length >= 2 && lists[0].length >= 3 * pairs && lists[1].length >= pairs
      ? [lists[0], lists[1]]
      : null;
  };
  for (let opened = 0; !pick() && performance.now() < deadline && opened < 400; opened += 8) {
    const batch = await connectMany(job, 8, "raw", 65536, opened);
    for (const c of batch.clients) {
      all.push(c);
      const iso = /"isolate":"([^"]+)"/.exec(c.first)?.[1] ?? "?";
      if (!byIsolate.has(iso)) byIsolate.set(iso, []);
      byIsolate.get(iso)!.push(c);
    }
  }
  const lists = pick();
  if (!lists) {
    for (const c of all) c.close();
    emit({
      event: "result",
      mode: "cluster",
      ok: false,
      why: `sockets landed on ${byIsolate.size} isolate(s): ${
        [...byIsolate].map(([k, v]) => `${k}: ${v.length}`).join(", ")
      }`,
    });
    return;
  }
  const [big, small] = lists;
  const cross = Array.from({ length: pairs }, (_, p) => [big[p], small[p]] as [Client, Client]);
  const same = Array.from(
    { length: pairs },
    (_, p) => [big[pairs + 2 * p], big[pairs + 2 * p + 1]] as [Client, Client],
  );
  const warmupMs = job.warmupMs ?? 1_000;
  const measureMs = job.measureMs ?? 4_000;
  const x = await pingPong(cross, warmupMs, measureMs);
  const s = await pingPong(same, warmupMs, measureMs);
  for (const c of all) c.close();
  await sleep(200);
  emit({
    event: "result",
    mode: "cluster",
    ok: true,
    isolates: byIsolate.size,
    pairs,
    crossMsgsPerSec: x.msgsPerSec,
    crossP50: x.p50,
    crossP99: x.p99,
    sameMsgsPerSec: s.msgsPerSec,
    sameP50: s.p50,
    sameP99: s.p99,
    errors: Number(x.errors) + Number(s.errors),
    firstError: x.firstError || s.firstError,
  });
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0] ?? "{}") as Job;
  const run = { relay, flood, idle, storm, cluster }[job.mode];
  if (!run) throw new Error(`gen: unknown mode ${job.mode}`);
  try {
    await run(job);
  } catch (error) {
    emit({ event: "result", mode: job.mode, failed: String(error) });
  }
  Deno.exit(0);
}
