import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { APP_PING_HEARTBEATS } from "../../lib/server/hub.ts";
import { openRaw } from "../bench/ws_raw.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;
const HEARTBEAT_MS = 100;

Deno.test("a socket that stops answering Deno's pings is closed (1001) and, after its grace, gone", async () => {
  await using server = await startHub({
    limits: { heartbeatMs: HEARTBEAT_MS, resumeGraceMs: 100 },
  });
  const watcher = await rawClient(server.url);
  await watcher.request({ type: "join", group: "g" });
  const answer = setInterval(() => watcher.send({ type: "pong" }), 50);
  try {
    const port = Number(new URL(server.url).port);
    let pings = 0;
    let welcome: Extract<ServerFrame, { type: "welcome" }> | undefined;
    let closeCode: number | undefined;
    const dead = await openRaw("127.0.0.1", port, "/api/realtime", {
      answerPings: false,
      onPing: () => pings++,
      onText: (text) => {
        const frame = JSON.parse(text) as ServerFrame;
        if (frame.type === "welcome") welcome = frame;
      },
      onClose: (code) => (closeCode = code),
    });
    await waitFor(() => welcome, { message: "the welcome" });
    dead.send(JSON.stringify({ type: "join", id: 1, group: "g" }));
    await dead.done;
    assert.ok(pings >= 1, "Deno pinged the silent socket");
    assert.equal(closeCode, 1001);
    assert.equal(welcome?.heartbeat, HEARTBEAT_MS * APP_PING_HEARTBEATS);
    const gone = await watcher.next<Notice>((f) =>
      f.type === "notice" && f.code === "USER_DISCONNECTED"
    );
    assert.equal(gone.sender_cid, welcome?.cid);
  } finally {
    clearInterval(answer);
  }
  await watcher.close();
});

Deno.test("an idle socket that answers Deno's pings gets the application's ping only every few heartbeats", async () => {
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
  const window = 12 * HEARTBEAT_MS;
  await new Promise((r) => setTimeout(r, window));
  const appPings = frames.filter((f) => f.type === "ping").length;
  // Twelve heartbeats: the application pinged about three times, not twelve.
  assert.ok(appPings >= 1 && appPings <= 12 / APP_PING_HEARTBEATS + 1, `${appPings} app pings`);
  assert.ok(protocolPings >= 2, `${protocolPings} protocol pings`);
  await waitFor(() => server.hub.counts.sockets === 1);
  socket.close();
  await socket.done;
});
