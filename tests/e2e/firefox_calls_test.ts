// Over 300 lines: one cross-engine session's steps, which share its two browsers.
/**
 * Calls through the SDK between two engines: Firefox ESR (puppeteer-core,
 * WebDriver BiDi) and Chromium (playwright-core), both with fake cameras and
 * microphones, one app server, one browser of each kind for every step. Both
 * pages run the same harness (`/sdk.js` in a page of the app, `window.H`).
 *
 * Run inside the private network namespace:
 * `bash tests/netns.sh deno test -A tests/e2e/firefox_calls_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page as FirefoxPage } from "puppeteer-core";
import { launchChromium, type PageErrors, pageErrors } from "../_helpers/browser.ts";
import {
  firefoxPageErrors,
  firefoxPath,
  firefoxUserPage,
  launchFirefox,
} from "../_helpers/firefox.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";
import { h, harnessPage, openHarness, until } from "./_calls_harness.ts";

/** One user's harness page, whatever the engine. */
interface Side {
  engine: "Chromium" | "Firefox";
  /** Runs `body` in the page as an async function of `H` and `arg`. */
  run<T = unknown>(body: string, arg?: unknown): Promise<T>;
  /** Waits until `expression` (with `H` in scope) is truthy. */
  until(expression: string, timeout?: number): Promise<void>;
  errors: PageErrors;
}

/** The call harness in a Firefox page of the app (the same module Chromium runs). */
async function firefoxHarness(page: FirefoxPage, appUrl: string): Promise<Side> {
  await openHarness(page, appUrl);
  return {
    engine: "Firefox",
    run: <T>(body: string, arg?: unknown) => h<T>(page, body, arg ?? null),
    until: (expression: string, timeout?: number) => until(page, expression, timeout),
    errors: firefoxPageErrors(page),
  };
}

/** What the harness reports about the inbound media of the current call. */
interface Inbound {
  framesDecoded: number;
  packetsReceived: number;
}

/** SDK warnings and browser messages that are expected in these scenarios. */
const EXPECTED = [/status of 404/];

const ready = firefoxPath() !== undefined;

Deno.test({
  name: "calls between Firefox and Chromium",
  ignore: !ready,
  async fn(t) {
    await using app = await startApp({ cluster: true, env: { DENO_JOBS: "1" } });
    const [chromium, firefox] = await Promise.all([
      launchChromium({ loopbackCandidates: false }),
      launchFirefox(),
    ]);
    await using _c = chromium;
    await using _f = firefox;
    console.log(`    Firefox ${await firefox.version()} launched in ${firefox.launchMs} ms`);
    const cpage = await harnessPage(chromium, app.url);
    const c: Side = {
      engine: "Chromium",
      run: (body, arg) => h(cpage, body, arg),
      until: (expression, timeout) => until(cpage, expression, timeout),
      errors: pageErrors(cpage),
    };
    const f = await firefoxHarness(await firefoxUserPage(firefox, app.url), app.url);

    const connectBoth = async (options = {}) => {
      const [cc, fc] = await Promise.all([
        c.run<string>("return H.connect(arg)", options),
        f.run<string>("return H.connect(arg)", options),
      ]);
      return { [c.engine]: cc, [f.engine]: fc } as Record<Side["engine"], string>;
    };
    const timed = async (name: string, fn: () => Promise<void>) => {
      const start = performance.now();
      await fn();
      console.log(`    ${name}: ${Math.round(performance.now() - start)} ms`);
    };

    /** The inbound video codec and channel parameters one side sees. */
    const describeCall = (side: Side) =>
      side.run<
        { codec: string; audioCodec: string; channels: Record<string, unknown[]> }
      >(`
        const stats = await H.conn.target.getStats();
        const codecs = new Map();
        const inbound = {};
        stats.forEach((s) => {
          if (s.type === 'codec') codecs.set(s.id, s.mimeType);
          if (s.type === 'inbound-rtp' && s.codecId) inbound[s.kind] = s.codecId;
        });
        const channels = {};
        for (const [label, ch] of Object.entries(H.conn.channels)) {
          channels[label] = [ch.id, ch.negotiated, ch.ordered, ch.maxPacketLifeTime, ch.maxRetransmits];
        }
        return { codec: codecs.get(inbound.video) ?? '', audioCodec: codecs.get(inbound.audio) ?? '', channels };
      `);

    /** `caller` calls `callee` with audio, video and three kinds of data channels. */
    const videoCall = async (caller: Side, callee: Side) => {
      const cids = await connectBoth();
      const channels = [
        { label: "default" },
        "gaming",
        { label: "custom", ordered: false, maxRetransmits: 0 },
      ];
      await caller.run("await H.call(arg.cid, { media: true, channels: arg.channels })", {
        cid: cids[callee.engine],
        channels,
      });
      await callee.until("H.incoming.length === 1");
      const incoming = await callee.run<{ cid: string; media: unknown }>(
        "const i = H.incoming[0]; return { cid: i.sender_cid, media: i.media }",
      );
      assert(incoming.cid === cids[caller.engine], "rtc:incoming names the caller's cid");
      const accepted = performance.now();
      await callee.run("await H.accept({ media: true })");
      await Promise.all([caller.until("H.connected()"), callee.until("H.connected()")]);
      console.log(
        `      ${caller.engine} → ${callee.engine}: accept → connected ${
          Math.round(performance.now() - accepted)
        } ms`,
      );
      for (const label of ["default", "gaming", "custom"]) {
        await Promise.all([
          caller.until(`H.openChannel('${label}')`),
          callee.until(`H.openChannel('${label}')`),
        ]);
      }
      await caller.run(`H.send('ping from ${caller.engine}')`);
      await callee.run(`H.send('pong from ${callee.engine}')`);
      await callee.run(`H.send('unordered from ${callee.engine}', 'custom')`);
      await caller.run(`H.send('lossy from ${caller.engine}', 'gaming')`);
      await callee.until(`H.messages.includes('ping from ${caller.engine}')`);
      await caller.until(`H.messages.includes('pong from ${callee.engine}')`);
      await caller.until(`H.messages.includes('unordered from ${callee.engine}')`);
      await callee.until(`H.messages.includes('lossy from ${caller.engine}')`);
      for (const side of [caller, callee]) {
        await side.until("H.tracks.includes('video') && H.tracks.includes('audio')");
        const video = await waitFor(async () => {
          const v = await side.run<Inbound>("return H.inbound('video')");
          return v.framesDecoded > 3 && v;
        }, { timeout: 10_000, message: `${side.engine} decodes video frames` });
        const audio = await waitFor(async () => {
          const a = await side.run<Inbound>("return H.inbound('audio')");
          return a.packetsReceived > 3 && a;
        }, { timeout: 10_000, message: `${side.engine} receives audio packets` });
        const seen = await describeCall(side);
        console.log(
          `      ${side.engine} receives ${seen.codec} (${video.framesDecoded} frames) + ${seen.audioCodec} (${audio.packetsReceived} packets)`,
        );
        assert(/video\/VP8/i.test(seen.codec), `${side.engine} decodes ${seen.codec}, not VP8`);
        assert(/audio\/opus/i.test(seen.audioCodec), `${side.engine} receives ${seen.audioCodec}`);
        // id, negotiated, ordered, maxPacketLifeTime, maxRetransmits
        assert(
          JSON.stringify(seen.channels) ===
            JSON.stringify({
              default: [0, true, true, null, null],
              gaming: [1, true, false, 100, null],
              custom: [2, true, false, null, 0],
            }),
          `${side.engine} channels ${JSON.stringify(seen.channels)}`,
        );
        const dupes = await side.run<string[]>(
          "const c = H.events.filter((e) => e.type === 'icecandidate').map((e) => e.sdpMid + ' ' + e.candidate); return c.filter((x, i) => c.indexOf(x) !== i)",
        );
        assert(dupes.length === 0, `${side.engine}: icecandidate events twice: ${dupes}`);
      }
    };

    /** `who` hangs up the current call; both sides see it closed, SDK media stopped. */
    const hangUp = async (who: Side, other: Side) => {
      await who.run("await H.conn.hangup()");
      await other.until("H.closed.length === 1 && H.conn.target.connectionState === 'closed'");
      await who.until("H.finals === 1 && H.closed.length === 0");
      for (const side of [who, other]) {
        const tracks = await side.run<string[]>(
          "return H.conn.media.getTracks().map((t) => t.readyState)",
        );
        assert(tracks.every((s) => s === "ended"), `${side.engine}: SDK media still ${tracks}`);
        assert(
          await side.run("return H.client.calls.calls.length") === 0,
          `${side.engine} still has a call`,
        );
      }
    };

    await t.step(
      "Firefox calls Chromium: video, audio, three data channels, hang-up",
      () =>
        timed("Firefox → Chromium", async () => {
          await videoCall(f, c);
          await hangUp(c, f);
        }),
    );

    await t.step(
      "Chromium calls Firefox: video, audio, three data channels",
      () => timed("Chromium → Firefox", () => videoCall(c, f)),
    );

    await t.step(
      "mid-call across engines: renegotiation without a ring, replaceTrack, Firefox ICE restart, hang-up",
      () =>
        timed("renegotiation + ICE restart", async () => {
          const t0 = performance.now();
          const lap = (what: string) =>
            console.log(`      ${what}: ${Math.round(performance.now() - t0)} ms`);
          for (const [from, to] of [[f, c], [c, f]]) {
            const before = await to.run<number>("return H.tracks.length");
            await from.run(
              `const s = await navigator.mediaDevices.getUserMedia({ video: true });
              H.extra = s; H.conn.target.addTrack(s.getVideoTracks()[0], s);`,
            );
            await to.until(`H.tracks.length > ${before}`);
            lap(`${from.engine} added a track, ${to.engine} got it`);
          }
          await f.run(
            `const sender = H.conn.target.getSenders().find((s) => s.track?.kind === 'video');
            const s = await navigator.mediaDevices.getUserMedia({ video: true });
            await sender.replaceTrack(s.getVideoTracks()[0]);`,
          );
          // Firefox restarts ICE: Chromium answers with new credentials, data flows again.
          // A restart that Chromium offers is left out: here Chromium also has loopback
          // candidates (--allow-loopback-in-peer-connection) and may nominate a new
          // 127.0.0.1 pair that Firefox (which drops loopback) never uses; Chromium →
          // Firefox media and data then stall until Firefox restarts ICE itself.
          const ufrag = await c.run<string>(
            "return H.conn.target.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1]",
          );
          await f.run("H.conn.target.restartIce()");
          await c.until(
            `H.conn.target.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1] !== '${ufrag}'`,
          );
          await Promise.all([f.until("H.connected()"), c.until("H.connected()")]);
          await f.run("H.send('after restart')");
          await c.until("H.messages.includes('after restart')");
          await c.run("H.send('after restart too')");
          await f.until("H.messages.includes('after restart too')");
          lap("ICE restart by Firefox, data both ways");
          assert(await f.run("return H.incoming.length") === 1, "Firefox saw a second ring");
          assert(await c.run("return H.incoming.length") === 0, "Chromium saw a ring");
          await hangUp(f, c);
        }),
    );

    for (const [caller, callee] of [[f, c], [c, f]]) {
      await t.step(
        `${callee.engine} rejects ${caller.engine}'s call`,
        () =>
          timed(`reject by ${callee.engine}`, async () => {
            const cids = await connectBoth();
            await caller.run("await H.call(arg, { media: { audio: true } })", cids[callee.engine]);
            await callee.until("H.incoming.length === 1");
            await callee.run("await H.incoming[0].hangup()");
            await caller.until("H.settled && H.conn === null && H.closed.length === 1");
            assert(
              /rejected/i.test(await caller.run<string>("return H.closed[0]")),
              `${caller.engine} was told: ${await caller.run("return H.closed[0]")}`,
            );
          }),
      );
    }

    await t.step("Firefox cancels while Chromium rings", () =>
      timed("cancel", async () => {
        const cids = await connectBoth();
        await f.run("await H.call(arg)", cids.Chromium);
        await c.until("H.incoming.length === 1");
        await f.run("await H.connector.hangup()");
        await f.until("H.settled && H.conn === null");
        await c.until("H.closed.length === 1");
        assert(await c.run("return (await H.accept()) === false"), "a cancelled call accepted");
      }));

    for (let round = 1; round <= 2; round++) {
      await t.step(
        `glare across engines (${round}): both call at once → one call`,
        () =>
          timed(`glare ${round}`, async () => {
            const cids = await connectBoth();
            // Both pages are armed first, then dial at the same wall-clock moment, so
            // that each has its own call under way before the other's ring arrives.
            const at = Date.now() + 1_000;
            const arm = `H.dial = new Promise((r) => setTimeout(r, arg.at - Date.now()))
              .then(() => { H.dialedAt = Date.now(); return H.call(arg.cid, { media: { audio: true, video: true } }); });
              return Date.now();`;
            const armed = await Promise.all([
              c.run<number>(arm, { cid: cids.Firefox, at }),
              f.run<number>(arm, { cid: cids.Chromium, at }),
            ]);
            assert(Math.max(...armed) < at, `armed too late (${Math.max(...armed) - at} ms)`);
            await Promise.all([c.run("await H.dial"), f.run("await H.dial")]);
            const dialed = await Promise.all([c, f].map((s) => s.run<number>("return H.dialedAt")));
            console.log(`      dialed ${Math.abs(dialed[0] - dialed[1])} ms apart`);
            await Promise.all([c.until("H.connected()"), f.until("H.connected()")]);
            const ids: string[] = [];
            for (const side of [c, f]) {
              const seen = await side.run<{ me: string; calls: string[][]; incoming: number }>(
                "return { me: H.cid, calls: H.client.calls.calls.map((x) => [x.id, x.role, x.state]), incoming: H.incoming.length }",
              );
              console.log(`      ${side.engine}: ${JSON.stringify(seen)}`);
              assert(seen.calls.length === 1, `${side.engine} has ${seen.calls.length} calls`);
              // A ring that arrives before this side's own dial is shown (it is not
              // glare yet); the dial then joins that call. Still one call either way.
              assert(seen.incoming <= 1, `glare rang ${side.engine}'s app ${seen.incoming} times`);
              ids.push(seen.calls[0][0]);
            }
            assert(ids[0] === ids[1], `two call ids: ${ids}`);
            await Promise.all([c.until("H.openChannel()"), f.until("H.openChannel()")]);
            await c.run("H.send('one call')");
            await f.run("H.send('one call too')");
            await f.until("H.messages.includes('one call')");
            await c.until("H.messages.includes('one call too')");
            for (const side of [c, f]) {
              await waitFor(
                async () =>
                  (await side.run<Inbound>("return H.inbound('video')")).framesDecoded > 0,
                { timeout: 10_000, message: `${side.engine} decodes video after glare` },
              );
            }
            await c.run("await H.conn.hangup()");
            await f.until("H.closed.length === 1");
          }),
      );
    }

    await t.step("no page errors", () => {
      c.errors.assertNone(EXPECTED);
      f.errors.assertNone(EXPECTED);
    });
  },
});
