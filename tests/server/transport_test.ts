/**
 * Hostile transport input against a real server process, spoken by hand
 * over TCP where Deno's `WebSocket` would refuse to: a resume claim with a
 * bad `received`, invalid UTF-8 in a text frame, a frame over the limit from
 * a client that never answers the close, half-sent HTTP requests, and
 * upgrades that never send their hello.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CLOSE, type ServerFrame } from "../../lib/protocol/mod.ts";
import { rawWebSocket } from "../_helpers/faults.ts";
import { rawClient } from "../_helpers/hub.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

type Welcome = Extract<ServerFrame, { type: "welcome" }>;

/** The close code and reason of a close frame's payload. */
function closeOf(payload: Uint8Array): { code: number; reason: string } {
  return {
    code: (payload[0] << 8) | payload[1],
    reason: new TextDecoder().decode(payload.subarray(2)),
  };
}

/** Reads frames until the server's close frame. */
async function closeFrame(ws: Awaited<ReturnType<typeof rawWebSocket>>) {
  for (let frame; (frame = await ws.next()) !== null;) {
    if (frame.opcode === 8) return closeOf(frame.payload);
  }
  return null;
}

Deno.test("transport input", async (t) => {
  await using app = await startApp({ env: { PARLEY_MAX_CONNECTIONS_PER_IP: "3" } });

  await t.step(
    "a resume whose `received` is not a non-negative integer is refused, typed",
    async () => {
      const first = await rawWebSocket(`${app.wsUrl}?name=ada`);
      const welcome = (await first.nextJson<Welcome>())!;
      first.close();
      for (const received of ["abc", -1, 1.5, 2 ** 60]) {
        const ws = await rawWebSocket(`${app.wsUrl}?hello=1`);
        await ws.send(JSON.stringify({
          type: "hello",
          resume: { cid: welcome.cid, session: welcome.session, received },
        }));
        const closed = await closeFrame(ws);
        ws.close();
        assert.equal(
          closed?.code,
          CLOSE.noHello,
          `received ${received}: ${JSON.stringify(closed)}`,
        );
        assert.match(closed!.reason, /resume\.received/);
      }
    },
  );

  await t.step("invalid UTF-8 ends the session: the room sees the leave, no resume", async () => {
    const watcher = await rawClient(app.wsUrl, { name: "watcher" });
    const ws = await rawWebSocket(`${app.wsUrl}?name=mangled`);
    const welcome = (await ws.nextJson<Welcome>())!;
    try {
      await watcher.request({ type: "join", group: "utf8" });
      await ws.send(JSON.stringify({ type: "join", id: 1, group: "utf8" }));
      for (let frame; (frame = await ws.nextJson()) !== null && frame.type !== "ack";);
      const from = watcher.frames.length;
      await ws.send(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
      // Deno drops such a socket itself, with no close frame (1007 cannot be sent).
      assert.equal(await closeFrame(ws), null);
      await watcher.next(
        (f) =>
          f.type === "notice" && f.code === "USER_DISCONNECTED" && f.sender_cid === welcome.cid,
        5_000,
        from,
      );
      const again = await rawClient(app.wsUrl, {}, {
        hello: { resume: { cid: welcome.cid, session: welcome.session, received: 1 } },
      });
      assert.equal(again.welcome.resumed, false, "a session that broke the framing is not resumed");
      assert.notEqual(again.welcome.cid, welcome.cid);
      await again.close();
    } finally {
      ws.close();
      await watcher.close();
    }
  });

  await t.step("a socket the server closed frees its address slot at once", async () => {
    // Three slots (PARLEY_MAX_CONNECTIONS_PER_IP), each held by a client that
    // sends a frame over the limit and never answers the server's close.
    const holders = [];
    for (let i = 0; i < 3; i++) {
      const ws = await rawWebSocket(`${app.wsUrl}?name=big${i}`);
      await ws.nextJson();
      await ws.send("x".repeat(70 * 1024));
      holders.push(ws);
    }
    try {
      // Not read, not answered: their TCP connections stay, their slots do not.
      const fourth = await waitFor(
        () => rawClient(app.wsUrl, { name: "fourth" }).catch(() => null),
        { timeout: 5_000, message: "a fourth socket welcomed while the three hang" },
      );
      await fourth.close();
      const closes = await Promise.all(holders.map(closeFrame));
      assert.deepEqual(closes.map((c) => c?.code), [CLOSE.tooBig, CLOSE.tooBig, CLOSE.tooBig]);
    } finally {
      holders.forEach((ws) => ws.close());
    }
  });

  await t.step("upgrades waiting for their hello count against the address's sockets", async () => {
    const waiting = await Promise.all(
      [1, 2, 3].map(() => rawWebSocket(`${app.wsUrl}?hello=1`)),
    );
    try {
      await assert.rejects(rawWebSocket(`${app.wsUrl}?hello=1`), /429/);
    } finally {
      waiting.forEach((ws) => ws.close());
    }
    await waitFor(() => rawClient(app.wsUrl).then((c) => c.close().then(() => true), () => false), {
      message: "the slots back once those sockets closed",
    });
  });

  await t.step(
    "half-sent requests: Deno.serve has no header timeout; the rest are served",
    async () => {
      const half = await Promise.all(Array.from({ length: 50 }, async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: app.port });
        await conn.write(new TextEncoder().encode("GET /api/health HTTP/1.1\r\nHost: x\r\n"));
        return conn;
      }));
      try {
        await new Promise((r) => setTimeout(r, 2_000));
        const health = await fetch(`${app.url}/api/health`);
        assert.equal(health.status, 200, "served while 50 requests hang");
        await health.body?.cancel();
        // Documented (README "Guarantees"): they stay open; nothing cuts them off.
        const probe = new Uint8Array(1);
        const stillOpen = await Promise.race([
          half[0].read(probe).then(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(true), 500)),
        ]);
        assert.equal(stillOpen, true);
      } finally {
        half.forEach((conn) => conn.close());
      }
    },
  );
});
