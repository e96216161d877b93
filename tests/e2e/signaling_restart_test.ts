/**
 * A call across a signaling restart, in real Chromium: the app is SIGKILLed
 * mid-call, media and data keep flowing peer to peer while it is down, it
 * comes back on the same port and KV, both clients come back under their
 * cids — as fresh sessions told they may have missed messages (`missedMessages`),
 * since the resume logs died with the process — and signaling works again:
 * a renegotiation each way, then a hang-up that reaches the other side.
 *
 * Run inside the private network namespace:
 * `bash tests/netns.sh deno test -A tests/e2e/signaling_restart_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, pageErrors, screenshot } from "../_helpers/browser.ts";
import { freePort } from "../_helpers/process.ts";
import { type RunningApp, startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";
import { h, harnessPage, until } from "./_calls_harness.ts";

/**
 * Console errors expected here: Chromium logs every refused WebSocket
 * connection while the server is down; the harness page has no favicon.
 */
const EXPECTED = [/WebSocket connection to .* failed/, /ERR_CONNECTION_REFUSED/, /status of 404/];

/** In-page: record the client's state changes and `success` messages. */
const WATCH = `
  H.states = []; H.successes = [];
  H.client.on("connectionstatechange", (s) => H.states.push(s));
  H.client.on("success", (e) => H.successes.push(e.resumed ? "resumed" : e.missedMessages ? "missed" : e.message));
`;

/**
 * In-page: play the remote video in a <video>, and `H.pixels()` hashes what
 * it shows (drawn into a small canvas), to tell a live picture from a frozen one.
 */
const SHOW_REMOTE = `
  const tracks = H.conn.target.getReceivers().map((r) => r.track).filter((t) => t.kind === "video");
  const video = document.createElement("video");
  Object.assign(video, { autoplay: true, muted: true, playsInline: true, width: 320, height: 240 });
  video.srcObject = new MediaStream(tracks.slice(0, 1));
  document.body.append(video);
  H.video = video;
  const canvas = Object.assign(document.createElement("canvas"), { width: 64, height: 48 });
  const g = canvas.getContext("2d", { willReadFrequently: true });
  H.pixels = () => {
    g.drawImage(video, 0, 0, 64, 48);
    let hash = 0;
    for (const byte of g.getImageData(0, 0, 64, 48).data) hash = (hash * 31 + byte) | 0;
    return hash;
  };
`;

const frames = async (page: Page) =>
  (await h<{ framesDecoded: number }>(page, "return H.inbound('video')")).framesDecoded;

Deno.test("a call survives a signaling restart (Chromium)", async (t) => {
  const kvDir = await Deno.makeTempDir({ prefix: "parley-sigrestart-" });
  const kvPath = `${kvDir}/kv.sqlite3`;
  const port = freePort();
  const env = { PARLEY_RESUME_GRACE_MS: "20000" };
  const apps: RunningApp[] = [await startApp({ kvPath, port, env })];
  const t0 = performance.now();
  const timed = async (name: string, fn: () => Promise<void>) => {
    const start = performance.now();
    await fn();
    console.log(`    ${name}: ${Math.round(performance.now() - start)} ms`);
  };
  try {
    await using browser = await launchChromium();
    const a = await harnessPage(browser, apps[0].url);
    const b = await harnessPage(browser, apps[0].url);
    const pages = [a, b];
    let cids: string[] = [];

    await t.step(
      "a video call connects: frames both ways, data both ways",
      () =>
        timed("call", async () => {
          cids = await Promise.all(pages.map((p) => h<string>(p, "return H.connect()")));
          await Promise.all(pages.map((p) => h(p, WATCH)));
          await h(a, "await H.call(arg, { media: true })", cids[1]);
          await until(b, "H.incoming.length === 1");
          await h(b, "await H.accept({ media: true })");
          await Promise.all(pages.map((p) => until(p, "H.connected() && H.openChannel()")));
          await h(a, "H.send('before: A to B')");
          await h(b, "H.send('before: B to A')");
          await until(b, "H.messages.includes('before: A to B')");
          await until(a, "H.messages.includes('before: B to A')");
          for (const page of pages) {
            await until(page, "H.tracks.includes('video')");
            await waitFor(async () => (await frames(page)) > 0, {
              timeout: 10_000,
              message: "video frames decoded",
            });
            await h(page, SHOW_REMOTE);
            await until(page, "H.video.videoWidth > 0", 10_000);
          }
        }),
    );

    await t.step(
      "SIGKILL the app: both clients notice and reconnect",
      () =>
        timed("noticed", async () => {
          Deno.kill(apps[0].pid, "SIGKILL");
          await apps[0].stop();
          await Promise.all(
            pages.map((p) => until(p, "H.client.state === 'reconnecting'", 10_000)),
          );
        }),
    );

    await t.step(
      "while the server is down, media and data keep flowing",
      () =>
        timed("outage checks", async () => {
          const before = await Promise.all(pages.map(frames));
          const pixelsBefore = await Promise.all(
            pages.map((p) => h<number>(p, "return H.pixels()")),
          );
          await new Promise((r) => setTimeout(r, 2_000));
          const after = await Promise.all(pages.map(frames));
          const pixelsAfter = await Promise.all(
            pages.map((p) => h<number>(p, "return H.pixels()")),
          );
          console.log(
            `      frames decoded over 2 s down: A ${after[0] - before[0]}, B ${
              after[1] - before[1]
            }`,
          );
          for (const i of [0, 1]) {
            // ~20 fps arrive here (40 in 2 s, 2 cores): demand a clearly moving stream.
            assert(after[i] - before[i] >= 10, `page ${i}: frames ${before[i]} → ${after[i]}`);
            assert(pixelsAfter[i] !== pixelsBefore[i], `page ${i}: the remote picture froze`);
          }
          await h(a, "H.send('down: A to B')");
          await h(b, "H.send('down: B to A')");
          await until(b, "H.messages.includes('down: A to B')", 5_000);
          await until(a, "H.messages.includes('down: B to A')", 5_000);
          for (const page of pages) {
            const seen = await h<{ state: string; pc: string; calls: number }>(
              page,
              "return { state: H.client.state, pc: H.conn.target.connectionState, calls: H.client.calls.calls.length }",
            );
            assert(seen.state === "reconnecting", `the server is down, yet ${seen.state}`);
            assert(seen.pc === "connected", `peer connection ${seen.pc} while the server is down`);
            assert(seen.calls === 1, `${seen.calls} calls while the server is down`);
          }
        }),
    );

    await t.step(
      "the app restarts on the same port and KV: both back under the same cids, told they may have missed some",
      () =>
        timed("restart → both back", async () => {
          const restarted = performance.now();
          apps.push(await startApp({ kvPath, port, env }));
          const up = performance.now();
          const before = await Promise.all(
            pages.map((p) => h<number>(p, "return H.successes.length")),
          );
          // The success event comes once a fresh session has rejoined its room.
          await Promise.all(
            pages.map((p, i) =>
              until(
                p,
                `H.client.state === 'connected' && H.successes.length > ${before[i]}`,
                15_000,
              )
            ),
          );
          console.log(
            `      app healthy after ${Math.round(up - restarted)} ms; clients back ${
              Math.round(performance.now() - up)
            } ms later`,
          );
          for (const [i, page] of pages.entries()) {
            const seen = await h<{ cid: string; successes: string[]; states: string[] }>(
              page,
              "return { cid: H.client.user.cid, successes: H.successes, states: H.states }",
            );
            assert(seen.cid === cids[i], `page ${i}: cid ${cids[i]} came back as ${seen.cid}`);
            // The resume logs died with the process: never "resumed", which would claim no gap.
            assert(
              seen.successes.at(-1) === "missed",
              `page ${i}: not told of a possible gap: ${JSON.stringify(seen.successes)}`,
            );
            assert(
              seen.states.join() === "reconnecting,connected",
              `page ${i}: states ${seen.states.join(" → ")}`,
            );
          }
        }),
    );

    await t.step(
      "after the restart signals flow: a renegotiation each way",
      () =>
        timed("renegotiation", async () => {
          const added = `const s = await navigator.mediaDevices.getUserMedia({ video: true });
          H.extra = s; H.conn.target.addTrack(s.getVideoTracks()[0], s);`;
          const bBefore = await h<number>(b, "return H.tracks.length");
          await h(a, added);
          await until(b, `H.tracks.length > ${bBefore}`, 10_000);
          const aBefore = await h<number>(a, "return H.tracks.length");
          await h(b, added);
          await until(a, `H.tracks.length > ${aBefore}`, 10_000);
          for (const page of pages) {
            const seen = await h<{ incoming: number; calls: number; restarts: number }>(
              page,
              "return { incoming: H.incoming.length, calls: H.client.calls.calls.length, restarts: H.client.calls.calls[0].watchdog.restarts }",
            );
            assert(seen.calls === 1, `${seen.calls} calls after the restart`);
            assert(seen.restarts === 0, `${seen.restarts} ICE restarts: the path was lost?`);
          }
          assert(await h(b, "return H.incoming.length") === 1, "the callee was rung again");
          assert(await h(a, "return H.incoming.length") === 0, "the caller was rung");
          // Still live after the restart: frames advance and the picture moves.
          for (const page of pages) {
            const f = await frames(page);
            const px = await h<number>(page, "return H.pixels()");
            await waitFor(async () => (await frames(page)) > f + 10, {
              timeout: 5_000,
              message: "frames after the restart",
            });
            assert(await h<number>(page, "return H.pixels()") !== px, "frozen after the restart");
          }
          const path = await screenshot(b, "signaling-restart-callee");
          console.log(`      screenshot: ${path}`);
        }),
    );

    await t.step(
      "hang-up from the callee reaches the caller, whose connection closes",
      () =>
        timed("hang-up", async () => {
          await h(b, "await H.conn.hangup()");
          // Faster than the ICE watchdog's 2.5 s grace: the hang-up signal did it.
          await until(
            a,
            "H.closed.length === 1 && H.conn.target.connectionState === 'closed'",
            2_000,
          );
          await until(
            b,
            "H.finals === 1 && H.closed.length === 0 && H.conn.target.connectionState === 'closed'",
            2_000,
          );
          const ca = await h<string>(a, "return H.closed[0]");
          // Said by the hang-up signal (the ICE watchdog would say "The connection was lost…").
          assert(
            ca === "The other side hung up.",
            `caller's rtc:closed says ${JSON.stringify(ca)}`,
          );
          for (const page of pages) {
            assert(await h(page, "return H.client.calls.calls.length") === 0, "a call is left");
            assert(await h(page, "return H.client.state") === "connected", "signaling dropped");
          }
          for (const page of pages) pageErrors(page).assertNone(EXPECTED);
        }),
    );
    console.log(`    total: ${Math.round(performance.now() - t0)} ms`);
  } finally {
    for (const app of apps) await app.stop();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
});
