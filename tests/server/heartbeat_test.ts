import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { CLOSE } from "../../lib/protocol/mod.ts";
import type { Connection } from "../../lib/server/connection.ts";
import { Heartbeat, HeartbeatSweep, longestSilenceMs } from "../../lib/server/heartbeat.ts";
import { Registry } from "../../lib/server/registry.ts";
import { wiredConnections } from "../_helpers/connections.ts";
import { openRaw } from "../bench/ws_raw.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;
const HEARTBEAT_MS = 100;

Deno.test("a socket that leaves a ping unanswered is closed (4000) and, after its grace, gone", async () => {
  await using server = await startHub({
    limits: { heartbeatMs: HEARTBEAT_MS, resumeGraceMs: 100 },
  });
  const watcher = await rawClient(server.url);
  await watcher.request({ type: "join", group: "g" });
  const answer = setInterval(() => watcher.send({ type: "pong" }), 50);
  try {
    const port = Number(new URL(server.url).port);
    let protocolPings = 0;
    let appPings = 0;
    let welcome: Extract<ServerFrame, { type: "welcome" }> | undefined;
    let closeCode: number | undefined;
    const dead = await openRaw("127.0.0.1", port, "/api/realtime", {
      onPing: () => protocolPings++,
      onText: (text) => {
        const frame = JSON.parse(text) as ServerFrame;
        if (frame.type === "welcome") welcome = frame;
        if (frame.type === "ping") appPings++;
      },
      onClose: (code) => (closeCode = code),
    });
    await waitFor(() => welcome, { message: "the welcome" });
    dead.send(JSON.stringify({ type: "join", id: 1, group: "g" }));
    await dead.done;
    assert.ok(appPings >= 1, "the server pinged the silent socket");
    assert.equal(protocolPings, 0, "no WebSocket ping: Deno's idleTimeout is off");
    assert.equal(closeCode, 4000);
    assert.equal(welcome?.heartbeat, longestSilenceMs({ heartbeatMs: HEARTBEAT_MS }));
    const gone = await watcher.next<Notice>((f) =>
      f.type === "notice" && f.code === "USER_DISCONNECTED"
    );
    assert.equal(gone.sender_cid, welcome?.cid);
  } finally {
    clearInterval(answer);
  }
  await watcher.close();
});

Deno.test("an idle socket that answers gets the application's ping each heartbeat, and stays", async () => {
  await using server = await startHub({ limits: { heartbeatMs: HEARTBEAT_MS } });
  const port = Number(new URL(server.url).port);
  let protocolPings = 0;
  const frames: ServerFrame[] = [];
  const socket = await openRaw("127.0.0.1", port, "/api/realtime", {
    onPing: () => protocolPings++,
    onText: (text) => {
      const frame = JSON.parse(text) as ServerFrame;
      frames.push(frame);
      if (frame.type === "ping") socket.send(JSON.stringify({ type: "pong", received: 0 }));
    },
  });
  await waitFor(() => frames.some((f) => f.type === "welcome"), { message: "the welcome" });
  // How many sweeps a busy machine runs is not asserted (the sweep's own tests count pings).
  await waitFor(() => frames.filter((f) => f.type === "ping").length >= 4, {
    timeout: 20_000,
    message: "four pings",
  });
  assert.equal(protocolPings, 0, "no WebSocket ping");
  assert.equal(server.hub.counts.sockets, 1, "still connected");
  socket.close();
  await socket.done;
});

// --- the sweep itself (HeartbeatSweep), on a fake clock ---

const PERIOD = 1_000;

function beating(lastSeen = 0) {
  const pings: number[] = [];
  const connection = {
    lastSeen,
    sentSinceBeat: false,
    pingedInBeat: -1,
    sendUncounted(text: string) {
      assert.equal(text, '{"type":"ping"}');
      pings.push(0);
      connection.sentSinceBeat = true;
    },
  };
  return { connection, pings };
}

Deno.test("an idle connection that answers gets a ping each sweep, and is never dead", () => {
  const heart = new HeartbeatSweep(PERIOD, 0);
  const { connection, pings } = beating(0);
  const dead: unknown[] = [];
  for (let sweep = 1; sweep <= 10; sweep++) {
    const now = sweep * PERIOD;
    const before = pings.length;
    heart.beat([connection], (c) => dead.push(c), now);
    if (pings.length > before) connection.lastSeen = now + 5; // its pong, 5 ms later
  }
  assert.deepEqual(dead, []);
  assert.equal(pings.length, 10, "one ping per sweep: proxies cut sockets idle for 30 s");
});

Deno.test("a connection quiet since before the first sweep is pinged by it, not taken for dead", () => {
  const sweep = new HeartbeatSweep(PERIOD, 0);
  const { connection, pings } = beating(-5 * PERIOD);
  sweep.beat([connection], () => assert.fail("not dead: it was never pinged"), PERIOD);
  assert.equal(pings.length, 1);
});

Deno.test("a connection whose client keeps sending but gets nothing is pinged each sweep", () => {
  const heart = new HeartbeatSweep(PERIOD, 0);
  const { connection, pings } = beating(0);
  for (let sweep = 1; sweep <= 4; sweep++) {
    connection.lastSeen = sweep * PERIOD - 1; // a frame from the client just before each sweep
    heart.beat([connection], () => assert.fail("not dead"), sweep * PERIOD);
  }
  assert.equal(pings.length, 4);
});

Deno.test("a connection sent something just after a sweep is pinged at the one after next", () => {
  const heart = new HeartbeatSweep(PERIOD, 0);
  const { connection, pings } = beating(0);
  const counts: number[] = [];
  for (let sweep = 1; sweep <= 3; sweep++) {
    connection.lastSeen = sweep * PERIOD - 1;
    heart.beat([connection], () => assert.fail("not dead"), sweep * PERIOD);
    counts.push(pings.length);
    if (sweep === 1) connection.sentSinceBeat = true; // a message, just after the first sweep
  }
  assert.deepEqual(counts, [1, 1, 2], "never silent towards it for two whole periods");
});

Deno.test("a busy connection (frames both ways) gets no ping", () => {
  const heart = new HeartbeatSweep(PERIOD, 0);
  const { connection, pings } = beating(0);
  for (let sweep = 1; sweep <= 4; sweep++) {
    connection.lastSeen = sweep * PERIOD - 1;
    connection.sentSinceBeat = true;
    heart.beat([connection], () => assert.fail("not dead"), sweep * PERIOD);
  }
  assert.equal(pings.length, 0);
});

Deno.test("a connection that does not answer its ping within a period is taken for dead", () => {
  const heart = new HeartbeatSweep(PERIOD, 0);
  const { connection } = beating(10);
  const dead: number[] = [];
  for (let sweep = 1; sweep <= 4; sweep++) {
    heart.beat([connection], () => dead.push(sweep), sweep * PERIOD);
  }
  assert.equal(dead[0], 2, "pinged at the first sweep, dead at the second");
  assert.equal(longestSilenceMs({ heartbeatMs: PERIOD }), 2 * PERIOD);
});

Deno.test("a late sweep (a busy event loop) does not take a live idle connection for dead", () => {
  const heart = new HeartbeatSweep(PERIOD, 0);
  const { connection, pings } = beating(0);
  let now = 0;
  for (let sweep = 1; sweep <= 8; sweep++) {
    now += PERIOD * (sweep % 3 === 0 ? 4 : 1); // every third sweep three periods late
    const before = pings.length;
    heart.beat([connection], () => assert.fail(`dead at sweep ${sweep}`), now);
    if (pings.length > before) connection.lastSeen = now + 5;
  }
  assert.ok(pings.length >= 3);
});

Deno.test("a beat pings each quiet welcomed socket, the next suspends the unanswering; the unwelcomed hear nothing", async () => {
  await using wired = await wiredConnections(3);
  const [answering, silent, unwelcomed] = wired.pairs;
  const registry = new Registry();
  for (const { connection } of wired.pairs) registry.add(connection);
  answering.connection.welcomed = silent.connection.welcomed = true;
  const suspended: Connection[] = [];
  const heartbeat = new Heartbeat(registry, (c) => suspended.push(c), { heartbeatMs: 1_000 });
  try {
    const t0 = performance.now();
    answering.connection.lastSeen = silent.connection.lastSeen = t0 - 10_000;
    heartbeat.beat(t0 + 1_000);
    await answering.client.next((f) => f.type === "ping");
    await silent.client.next((f) => f.type === "ping");
    answering.connection.lastSeen = t0 + 1_005; // its pong
    heartbeat.beat(t0 + 2_000);
  } finally {
    heartbeat.stop();
  }
  assert.equal((await silent.client.closed).code, CLOSE.heartbeatTimeout);
  assert.deepEqual(suspended, [silent.connection]);
  // A frame the unwelcomed one is sent after the beats comes first: it got no ping.
  unwelcomed.connection.send({ type: "error", code: "INVALID_REQUEST", message: "marker" });
  await unwelcomed.client.next((f) => f.type === "error");
  assert.deepEqual(unwelcomed.client.frames.map((f) => f.type), ["welcome", "error"]);
});
