// Over 300 lines: one browser session's steps, which share its two pages.
/**
 * Calls through the SDK in real Chromium (fake camera and microphone), one
 * app server and one browser for every step.
 *
 * Run inside the private network namespace:
 * `bash tests/netns.sh deno test -A tests/e2e/calls_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchChromium, pageErrors } from "../_helpers/browser.ts";
import { freePort } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";
import { weriftPeerConnection } from "../_helpers/werift.ts";
import { RealtimeClient } from "../../lib/sdk/mod.ts";
import type { RTCConnection } from "../../lib/sdk/mod.ts";
import { turnCredential } from "../../lib/server/ice.ts";
import { spawnTurn } from "../_helpers/turn.ts";
import { h, harnessPage, until } from "./_calls_harness.ts";

/** SDK warnings that are expected in these scenarios. */
const EXPECTED = [/app bug/, /RTC callback threw/, /listener threw/, /status of 404/];

Deno.test("calls between browsers (Chromium)", async (t) => {
  // `deno serve` with one isolate: the way main.ts is served now.
  await using app = await startApp({ cluster: true, env: { DENO_JOBS: "1" } });
  await using browser = await launchChromium();
  const a = await harnessPage(browser, app.url);
  const b = await harnessPage(browser, app.url);
  const connectBoth = async (options = {}) => {
    const [ca, cb] = await Promise.all([
      h<string>(a, "return H.connect(arg)", options),
      h<string>(b, "return H.connect(arg)", options),
    ]);
    return { ca, cb };
  };
  const timed = async (name: string, fn: () => Promise<void>) => {
    const start = performance.now();
    await fn();
    console.log(`    ${name}: ${Math.round(performance.now() - start)} ms`);
  };

  await t.step("/api/ice answers urls only, and nothing under STUN_URLS=none", async () => {
    const body = await fetch(`${app.url}/api/ice`).then((r) => r.json());
    assert(JSON.stringify(body) === '{"iceServers":[]}', `got ${JSON.stringify(body)}`);
  });

  await t.step(
    "a video call connects: frames, audio, data both ways, single candidates",
    () =>
      timed("call", async () => {
        const { cb } = await connectBoth();
        await h(a, "await H.call(arg, { media: true })", cb);
        await until(b, "H.incoming.length === 1");
        const incoming = await h<Record<string, unknown>>(
          b,
          "const i = H.incoming[0]; return { sender: i.sender, cid: i.sender_cid, media: i.media, name: typeof i.name }",
        );
        assert(
          incoming.cid === (await h(a, "return H.cid")),
          "rtc:incoming names the caller's cid",
        );
        await h(b, "await H.accept({ media: true })");
        await Promise.all([until(a, "H.connected()"), until(b, "H.connected()")]);
        await Promise.all([until(a, "H.openChannel()"), until(b, "H.openChannel()")]);
        await h(a, "H.send('ping from A')");
        await h(b, "H.send('pong from B')");
        await until(b, "H.messages.includes('ping from A')");
        await until(a, "H.messages.includes('pong from B')");
        for (const page of [a, b]) {
          await until(page, "H.tracks.includes('video') && H.tracks.includes('audio')");
          await waitFor(async () =>
            (await h<{ framesDecoded: number }>(page, "return H.inbound('video')")).framesDecoded >
              0, { timeout: 10_000, message: "video frames decoded" });
          await waitFor(async () =>
            (await h<{ packetsReceived: number }>(page, "return H.inbound('audio')"))
              .packetsReceived > 0, { timeout: 10_000, message: "audio packets received" });
          const dupes = await h<string[]>(
            page,
            "const c = H.events.filter((e) => e.type === 'icecandidate').map((e) => e.sdpMid + ' ' + e.candidate); return c.filter((x, i) => c.indexOf(x) !== i)",
          );
          assert(dupes.length === 0, `icecandidate events delivered twice:\n${dupes.join("\n")}`);
          const states = await h<string[]>(
            page,
            "return H.events.filter((e) => e.type === 'connectionstatechange').map((e) => e.state)",
          );
          assert(states.includes("connected"), `connectionstatechange reported ${states}`);
        }
      }),
  );

  await t.step(
    "renegotiation from either side never rings again",
    () =>
      timed("renegotiation", async () => {
        const before = await h<number>(b, "return H.tracks.length");
        await h(
          a,
          `const s = await navigator.mediaDevices.getUserMedia({ video: true });
        H.extra = s; H.conn.target.addTrack(s.getVideoTracks()[0], s);`,
        );
        await until(b, `H.tracks.length > ${before}`);
        const aBefore = await h<number>(a, "return H.tracks.length");
        await h(
          b,
          `const s = await navigator.mediaDevices.getUserMedia({ video: true });
        H.conn.target.addTrack(s.getVideoTracks()[0], s);`,
        );
        await until(a, `H.tracks.length > ${aBefore}`);
        // replaceTrack (a screen-share style switch) needs no negotiation at all
        await h(
          a,
          `const sender = H.conn.target.getSenders().find((s) => s.track?.kind === 'video');
        const s = await navigator.mediaDevices.getUserMedia({ video: true });
        await sender.replaceTrack(s.getVideoTracks()[0]);`,
        );
        await h(a, "H.send('after renegotiation')");
        await until(b, "H.messages.includes('after renegotiation')");
        assert(
          await h(b, "return H.incoming.length") === 1,
          "the callee saw a second rtc:incoming",
        );
        assert(await h(a, "return H.incoming.length") === 0, "the caller saw an rtc:incoming");
        assert(await h(a, "return H.connected() && H.client.calls.calls.length === 1"), "one call");
      }),
  );

  await t.step(
    "hang-up ends both sides and stops only SDK-opened media",
    () =>
      timed("hang-up", async () => {
        await h(a, "await H.conn.hangup()");
        await until(b, "H.closed.length === 1 && H.conn.target.connectionState === 'closed'");
        // Both callbacks end on connectionstatechange: closed; only the other side hears rtc:closed.
        await until(a, "H.finals === 1");
        await until(b, "H.finals === 1");
        assert(await h(a, "return H.closed.length") === 0, "rtc:closed for one's own hang-up");
        const ended = await h<string[]>(
          a,
          "return H.conn.media.getTracks().map((t) => t.readyState)",
        );
        assert(ended.every((s) => s === "ended"), `SDK-opened tracks still ${ended}`);
        assert(
          await h(a, "return H.extra.getTracks()[0].readyState") === "live",
          "app stream stopped",
        );
      }),
  );

  await t.step(
    "an app-owned stream is used as given and survives the call",
    () =>
      timed("app stream", async () => {
        const { cb } = await connectBoth();
        await h(
          a,
          `H.own = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
        await H.call(arg, { media: H.own, channels: ['text-chat', 'gaming', { label: 'custom', ordered: false, maxRetransmits: 0 }] })`,
          cb,
        );
        await until(b, "H.incoming.length === 1");
        await h(b, "await H.accept()");
        await until(a, "H.connected()");
        assert(await h(a, "return H.conn.media === H.own"), "the app's stream was copied");
        const labels = await h<string[]>(b, "return Object.keys(H.conn.channels).sort()");
        assert(labels.join() === "custom,gaming,text-chat", `callee channels ${labels}`);
        await until(b, "H.openChannel('gaming')");
        await h(b, "H.send('frag', 'gaming')");
        await until(a, "H.messages.includes('frag')");
        await h(b, "await H.client.closeRTC({ close_all: true })");
        await until(a, "H.closed.length === 1");
        const live = await h<string[]>(a, "return H.own.getTracks().map((t) => t.readyState)");
        assert(live.every((s) => s === "live"), `the app's stream was stopped: ${live}`);
      }),
  );

  await t.step(
    "reject: the caller's connection is null, its callback ends on closed, it hears rtc:closed",
    () =>
      timed("reject", async () => {
        const { cb } = await connectBoth();
        await h(a, "await H.call(arg)", cb);
        await until(b, "H.incoming.length === 1");
        await h(b, "await H.incoming[0].hangup()");
        await until(a, "H.settled && H.conn === null && H.closed.length === 1 && H.finals === 1");
        assert(await h(b, "return H.closed.length") === 0, "the rejecting side heard rtc:closed");
      }),
  );

  await t.step("cancel while ringing", () =>
    timed("cancel", async () => {
      const { cb } = await connectBoth();
      await h(a, "await H.call(arg)", cb);
      await until(b, "H.incoming.length === 1");
      await h(a, "await H.connector.hangup()");
      await until(a, "H.settled && H.conn === null");
      await until(b, "H.closed.length === 1");
      assert(await h(b, "return (await H.accept()) === false"), "a cancelled call accepted");
    }));

  await t.step(
    "ring timeout (1.5 s here) settles null on both sides",
    () =>
      timed("ring timeout", async () => {
        const { cb } = await connectBoth({ timeouts: { ring: 1500 } });
        const start = Date.now();
        await h(a, "await H.call(arg)", cb);
        await until(a, "H.settled && H.conn === null", 5_000);
        const took = Date.now() - start;
        assert(took >= 1400 && took < 4000, `ring timeout took ${took} ms`);
        await until(b, "H.closed.length === 1");
      }),
  );

  await t.step(
    "glare: both call at once → exactly one call, connected",
    () =>
      timed("glare", async () => {
        const { ca, cb } = await connectBoth();
        // Both pages dial at the same wall-clock moment, so the rings cross.
        const at = Date.now() + 300;
        const dial =
          "await new Promise((r) => setTimeout(r, arg.at - Date.now())); await H.call(arg.cid, { media: { audio: true } })";
        await Promise.all([h(a, dial, { cid: cb, at }), h(b, dial, { cid: ca, at })]);
        await Promise.all([until(a, "H.connected()"), until(b, "H.connected()")]);
        for (const page of [a, b]) {
          assert(await h(page, "return H.client.calls.calls.length") === 1, "more than one call");
          const seen = await h(
            page,
            "return { me: H.cid, calls: H.client.calls.calls.map((c) => [c.id, c.role, c.state]), incoming: H.incoming.length }",
          );
          console.log(`      glare: ${JSON.stringify(seen)}`);
          assert(await h(page, "return H.incoming.length") === 0, "glare rang the app");
        }
        const [ida, idb] = await Promise.all([
          h(a, "return H.client.calls.calls[0].id"),
          h(b, "return H.client.calls.calls[0].id"),
        ]);
        assert(ida === idb, `two call ids: ${ida} / ${idb}`);
        await until(a, "H.openChannel()");
        await h(a, "H.send('one call')");
        await until(b, "H.messages.includes('one call')");
      }),
  );

  await t.step(
    "the SDK survives exceptions in the app's callbacks",
    () =>
      timed("throwing callbacks", async () => {
        const { cb } = await connectBoth();
        await h(a, "H.throwing = true");
        await h(b, "H.throwing = true");
        await h(a, "await H.call(arg, { media: { video: true } })", cb);
        await until(b, "H.incoming.length === 1");
        await h(b, "await H.accept()");
        await Promise.all([until(a, "H.connected()"), until(b, "H.connected()")]);
        await until(a, "H.openChannel()");
        await h(a, "H.send('still alive')");
        await until(b, "H.messages.includes('still alive')");
        await h(a, "H.throwing = false; await H.conn.hangup()");
        await h(b, "H.throwing = false");
        await until(b, "H.closed.length === 1");
        for (const page of [a, b]) {
          pageErrors(page).assertNone(EXPECTED);
          pageErrors(page).clear();
        }
      }),
  );

  await t.step(
    "ICE restart: TURN relay dies mid-call, the call recovers",
    () =>
      timed("ICE restart", async () => {
        const port = freePort();
        const secret = "parley-test";
        let server = spawnTurn(port, secret);
        try {
          const username = `${Math.floor(Date.now() / 1000) + 600}:test`;
          const ice = {
            iceServers: [{
              urls: `turn:127.0.0.1:${port}?transport=udp`,
              username,
              credential: await turnCredential(secret, username),
            }],
            iceTransportPolicy: "relay",
          };
          const { cb } = await connectBoth();
          await h(a, "await H.call(arg.cid, { ice: arg.ice })", { cid: cb, ice });
          await until(b, "H.incoming.length === 1");
          await h(b, "await H.accept({ ice: arg })", ice);
          await Promise.all([until(a, "H.connected()"), until(b, "H.connected()")]);
          server.child.kill("SIGKILL"); // the relay dies, no goodbye
          await server.status;
          await until(a, "!H.connected()", 15_000);
          server = spawnTurn(port, secret);
          await Promise.all([until(a, "H.connected()", 25_000), until(b, "H.connected()", 25_000)]);
          await until(a, "H.openChannel()");
          await h(a, "H.send('after restart')");
          await until(b, "H.messages.includes('after restart')");
          const states = await h<string[]>(
            a,
            "return H.events.filter((e) => e.type === 'connectionstatechange').map((e) => e.state)",
          );
          console.log(`      caller states: ${states.join(" → ")}`);
          assert(await h(b, "return H.incoming.length") === 1, "the restart rang again");
          const restarts = await Promise.all(
            [a, b].map((p) => h<number>(p, "return H.client.calls.calls[0].watchdog.restarts")),
          );
          console.log(`      ICE restarts (caller, callee): ${restarts}`);
          assert(restarts[0] + restarts[1] >= 1, "the call recovered without an ICE restart?");
          await h(a, "await H.conn.hangup()");
        } finally {
          await server.stop();
        }
      }),
  );

  await t.step("a werift peer under Deno calls a Chromium page", () =>
    timed("werift", async () => {
      const { cb } = await connectBoth();
      const stunPort = freePort();
      const stun = spawnTurn(stunPort);
      const client = new RealtimeClient({
        url: app.wsUrl,
        RTCPeerConnection: weriftPeerConnection(),
      });
      try {
        await client.connectRealtime();
        const received: unknown[] = [];
        const connector = await client.connectRTC(
          { cid: cb, ice: `stun:127.0.0.1:${stunPort}`, channels: ["text-chat"] },
          (e) => {
            if (e.type === "message") received.push(e.data);
          },
        );
        await until(b, "H.incoming.length === 1");
        await h(b, "await H.accept({ ice: [] })");
        const t0 = performance.now();
        const phase = (what: string) =>
          console.log(`      werift ${what}: ${Math.round(performance.now() - t0)} ms`);
        const conn = await connector.connection as RTCConnection;
        phase("accepted");
        assert(conn, "the werift call was not accepted");
        await waitFor(() => conn.target.connectionState === "connected", {
          timeout: 15_000,
          message: "werift connected",
        });
        await waitFor(() => conn.channels["text-chat"].readyState === "open", {
          timeout: 10_000,
          message: "werift channel open",
        });
        phase("connected, channel open");
        conn.channels["text-chat"].send("from werift");
        await until(b, "H.messages.includes('from werift')");
        await h(b, "H.send('from chromium', 'text-chat')");
        await waitFor(() => received.includes("from chromium"), {
          timeout: 10_000,
          message: "message at werift",
        });
        await conn.hangup();
        await until(b, "H.closed.length === 1");
      } finally {
        await stun.stop();
        await client.closeRealtime();
      }
    }));

  for (const page of [a, b]) pageErrors(page).assertNone(EXPECTED);
});
